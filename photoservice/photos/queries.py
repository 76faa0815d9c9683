"""Which photos a caller may see, and in what order."""
from sqlalchemy import and_, exists, false, func, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB

from ..extensions import db
from .models import Photo, PhotoStatus

UPLOADED = PhotoStatus.UPLOADED.value

# captured_at descending (undated last), then newest first.
DISPLAY_ORDER = (Photo.captured_at.desc().nulls_last(), Photo.created_at.desc(), Photo.id.desc())


def visible_to(caller):
    """Any photo the caller may open: uploaded ones their role sees, and their own."""
    own = Photo.created_by == caller.user_id
    shared = Photo.status == UPLOADED if caller.role.sees_company_photos else false()
    return and_(Photo.company_id == caller.company_id, or_(own, shared))


def listed_for(caller):
    """Photos the caller's list shows: uploaded, and for crew only their own."""
    condition = and_(Photo.company_id == caller.company_id, Photo.status == UPLOADED)
    if not caller.role.sees_company_photos:
        condition = and_(condition, Photo.created_by == caller.user_id)
    return condition


def find_visible(caller, photo_id):
    return db.session.execute(
        select(Photo).where(Photo.id == photo_id, visible_to(caller))
    ).scalar_one_or_none()


def has_tags(tags):
    """Photos carrying every one of `tags`."""
    if db.engine.dialect.name == "postgresql":
        return type_coerce(Photo.tags, JSONB).contains(list(tags))
    conditions = []
    for tag in tags:
        each = func.json_each(Photo.tags).table_valued("value")
        conditions.append(exists(select(1).select_from(each).where(each.c.value == tag)))
    return and_(*conditions)


def filtered(caller, filters):
    """A select of the caller's listed photos matching the list filters."""
    query = select(Photo).where(listed_for(caller))
    for field, attribute in (
        ("job", Photo.job_id),
        ("job_inspection_line_item", Photo.job_inspection_line_item_id),
        ("estimate_line_item", Photo.estimate_line_item_id),
        ("supplemental_line_item", Photo.supplemental_line_item_id),
        ("change_order_line_item", Photo.change_order_line_item_id),
    ):
        if filters.get(field) is not None:
            query = query.where(attribute == filters[field])
    excluded = filters.get("exclude_job_inspection_line_item")
    if excluded is not None:
        query = query.where(or_(Photo.job_inspection_line_item_id.is_(None),
                                Photo.job_inspection_line_item_id != excluded))
    if filters.get("tags"):
        query = query.where(has_tags(filters["tags"]))
    if filters.get("is_video") is not None:
        query = query.where(Photo.is_video == filters["is_video"])
    return query

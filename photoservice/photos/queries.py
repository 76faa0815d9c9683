"""Which photos a caller may see, and in what order."""
from functools import lru_cache

from sqlalchemy import and_, bindparam, false, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import JSONB

from ..database import execute
from ..extensions import db
from .models import REFERENCES, Photo, PhotoStatus

UPLOADED = PhotoStatus.UPLOADED.value

# captured_at descending (undated last), then newest first.
DISPLAY_ORDER = (Photo.captured_at.desc().nulls_last(), Photo.created_at.desc(), Photo.id.desc())


def visible_to(caller):
    """Any photo the caller may open: uploaded ones their role sees, and their own."""
    own = Photo.created_by == caller.user_id
    shared = Photo.status == UPLOADED if caller.role.sees_company_photos else false()
    return and_(Photo.company_id == caller.company_id, or_(own, shared))


def find_visible(caller, photo_id, lock=False):
    """The photo if the caller may see it, else None; `lock` holds its row until commit."""
    query = select(Photo).where(Photo.id == photo_id, visible_to(caller))
    return db.session.execute(query.with_for_update() if lock else query).scalar_one_or_none()


def lock(photo_id):
    """Lock a photo's row until commit, reading it afresh; None if it is gone."""
    return db.session.execute(
        select(Photo).where(Photo.id == photo_id).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def has_tags(tags):
    """Photos carrying every one of `tags` (JSONB containment, on the GIN index)."""
    return Photo.tags.contains(tags)


#: What a listed photo shows: every column but the workers' bookkeeping.
LISTED_COLUMNS = tuple(column for column in Photo.__table__.columns if column.key not in (
    "company_id", "etag", "processing_attempts", "dispatched_at", "media_attempts",
    "media_dispatched_at", "media_processed_at", "processed_event_at", "request_id",
    "media_request_id"))

#: The list's filters, each as a condition on a bind parameter of its own name.
FILTERS = {
    **{field: column == bindparam(field) for field, column in REFERENCES.items()},
    "exclude_job_inspection_line_item": or_(
        Photo.job_inspection_line_item_id.is_(None),
        Photo.job_inspection_line_item_id != bindparam("exclude_job_inspection_line_item")),
    "tags": has_tags(bindparam("tags", type_=JSONB)),
    "is_video": Photo.is_video == bindparam("is_video"),
}


#: From this many rows in, a page's ids are found on the listing index alone and only
#: its own rows are read: OFFSET otherwise reads every skipped row (page 2,000 of 10:
#: 12.5 ms, against 3 ms; docs/performance.md).
DEFERRED_OFFSET = 1_000


def _given(filters):
    return {name: value for name, value in filters.items() if name in FILTERS and value not in (None, [])}


def _scope(caller, filters):
    """(given filters, their bind parameters with the caller's)."""
    given = _given(filters)
    return given, dict(given, company_id=caller.company_id, user_id=caller.user_id)


def page_of(caller, filters, page, page_size):
    """(count of the caller's listed photos matching `filters`, the rows on page `page`):
    uploaded photos, for crew only their own, in display order.

    Rows are mappings of LISTED_COLUMNS, read without the ORM: a page of 100 cost ~2 ms
    more CPU as Photo instances, and ~2.5 ms more to serialize through their attributes.
    """
    given, params = _scope(caller, filters)
    offset = (page - 1) * page_size
    count, rows = _listing(caller.role.sees_company_photos, frozenset(given), offset >= DEFERRED_OFFSET)
    params.update(limit=page_size, offset=offset)
    return execute(count, params).scalar_one(), execute(rows, params).mappings().all()


def page_after(caller, filters, after, page_size):
    """(the rows that follow `after` in display order, whether more follow): keyset paging,
    no count. `after` is (captured_at or None, created_at, id) of the last row of the page
    before, or () for the first page.

    Dated photos come before undated ones (NULLS LAST): after a dated row, the rest of
    the dated ones are read first and, if the page is not full, the undated ones.
    """
    given, params = _scope(caller, filters)
    if not after:
        stages = ("start",)
    else:
        params.update(after_captured_at=after[0], after_created_at=after[1], after_id=after[2])
        stages = ("undated_after",) if after[0] is None else ("dated_after", "undated")
    rows = []
    for stage in stages:
        statement = _keyset(caller.role.sees_company_photos, frozenset(given), stage)
        rows += execute(statement, dict(params, limit=page_size + 1 - len(rows))).mappings().all()
        if len(rows) > page_size:
            break
    return rows[:page_size], len(rows) > page_size


def _listed(company_wide, filter_names):
    return select(*LISTED_COLUMNS).where(
        Photo.company_id == bindparam("company_id"), Photo.status == UPLOADED,
        *(() if company_wide else (Photo.created_by == bindparam("user_id"),)),
        *(FILTERS[name] for name in sorted(filter_names)))


@lru_cache(maxsize=256)
def _listing(company_wide, filter_names, deferred=False):
    """(count, page) statements of a listing: built once per role kind and set of
    filters, then only bound (building and keying them cost more than running them).
    `deferred`: the page's ids first (an index-only scan past the offset), then its rows."""
    query = _listed(company_wide, filter_names)
    count = query.with_only_columns(func.count(), maintain_column_froms=True)
    if not deferred:
        return count, query.order_by(*DISPLAY_ORDER).limit(bindparam("limit")).offset(bindparam("offset"))
    ids = (query.with_only_columns(Photo.id).order_by(*DISPLAY_ORDER)
           .limit(bindparam("limit")).offset(bindparam("offset")).subquery())
    return count, (select(*LISTED_COLUMNS).join_from(Photo, ids, Photo.id == ids.c.id)
                   .order_by(*DISPLAY_ORDER))


#: Where a keyset page starts, on the listing indexes (row comparisons are index conditions).
_AFTER = {
    "start": (),
    "dated_after": (tuple_(Photo.captured_at, Photo.created_at, Photo.id) < tuple_(
        bindparam("after_captured_at", type_=Photo.captured_at.type),
        bindparam("after_created_at", type_=Photo.created_at.type), bindparam("after_id")),),
    "undated": (Photo.captured_at.is_(None),),
    "undated_after": (Photo.captured_at.is_(None), tuple_(Photo.created_at, Photo.id) < tuple_(
        bindparam("after_created_at", type_=Photo.created_at.type), bindparam("after_id"))),
}


@lru_cache(maxsize=256)
def _keyset(company_wide, filter_names, stage):
    """The page statement of keyset paging from `stage` (a key of _AFTER)."""
    return (_listed(company_wide, filter_names).where(*_AFTER[stage]).order_by(*DISPLAY_ORDER)
            .limit(bindparam("limit")))

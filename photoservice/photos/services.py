"""The photo upload flow: create, finalize, read."""
from functools import lru_cache

from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from .. import storage
from ..errors import Conflict, NotFound
from ..extensions import db
from ..fields import MAX_ID
from ..models_base import utcnow
from ..pagination import paginate
from ..pipeline import announce_photo_created
from ..statements import dialect_name, execute
from . import queries
from .keys import content_type_for, media_kind, object_key
from .models import Photo, PhotoStatus
from .references import resolve_job
from .schemas import REFERENCE_FIELDS

# Attempts at a fresh random key suffix if one is already taken (~1 in 4 billion).
KEY_ATTEMPTS = 5


def create_photo(caller, data):
    """Create a pending photo and its upload policy; returns (photo, HTTP status).

    A known `client_id` returns the company's existing photo with status 200.
    """
    given = {field: data.pop(field, None) for field in REFERENCE_FIELDS}
    references = {field: object_id for field, object_id in given.items() if object_id is not None}
    values = dict(
        data,
        company_id=caller.company_id,
        created_by=caller.user_id,
        job_id=resolve_job(caller.company_id, references),
        status=PhotoStatus.PENDING_UPLOAD.value,
        **{REFERENCE_FIELDS[f]: object_id for f, object_id in references.items() if f != "job"},
    )
    for _ in range(KEY_ATTEMPTS):
        values["key"] = object_key(data["name"], data["is_video"])
        photo = _insert_unless_exists(values)
        if photo is not None:
            photo.upload_url = _upload_policy(photo)
            db.session.commit()
            announce_photo_created(photo.id)
            return photo, 201
        if data.get("client_id"):
            existing = _find_by_client_id(caller.company_id, data["client_id"])
            if existing is not None:
                return replay(existing), 200
    raise RuntimeError("could not find a free object key")


def replay(photo):
    """A repeated create: the same photo, with a fresh policy while still pending."""
    photo.upload_url = None if photo.is_uploaded else _upload_policy(photo)
    return photo


def _insert_unless_exists(values):
    """INSERT … ON CONFLICT DO NOTHING: None if the client_id or key was taken.

    The unique constraints decide, so concurrent duplicates make one row. The
    new photo is built from the RETURNING row; it is not kept in the session.
    """
    row = execute(_insert_statement(dialect_name()), values).one_or_none()
    return None if row is None else Photo(**row._mapping)


@lru_cache(maxsize=None)
def _insert_statement(dialect):
    table = Photo.__table__
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    return insert(table).on_conflict_do_nothing().returning(*table.columns)


def _find_by_client_id(company_id, client_id):
    return db.session.execute(
        db.select(Photo).where(Photo.company_id == company_id, Photo.client_id == client_id)
    ).scalar_one_or_none()


def _upload_policy(photo):
    return storage.upload_policy(
        photo.key, content_type_for(photo.key, photo.is_video), media_kind(photo.is_video)
    )


def get_photo(caller, photo_id):
    """One photo the caller may see, with a download link once uploaded."""
    photo = _visible_or_404(caller, photo_id)
    photo.download_url = storage.download_url(photo.key) if photo.is_uploaded else None
    return photo


def finalize_upload(caller, photo_id):
    """Mark a photo uploaded once its file is really in the store. Repeatable."""
    photo = _visible_or_404(caller, photo_id)
    stored = storage.stat_object(photo.key)
    if stored is None:
        raise Conflict("The file has not been uploaded yet: POST it to upload_url, then retry.")
    media = media_kind(photo.is_video)
    if stored.size > current_app.config["PHOTO_UPLOAD_MAX_BYTES"] or \
            not stored.content_type.startswith(f"{media}/"):
        raise Conflict(f"The stored file does not fit the upload policy ({media}/*, size limit).")
    photo.size, photo.content_type, photo.etag = stored.size, stored.content_type, stored.etag
    photo.status = PhotoStatus.UPLOADED.value
    photo.uploaded_at = photo.uploaded_at or utcnow()
    db.session.commit()
    return photo


def list_photos(caller, args):
    """A page of the uploaded photos the caller may see, in display order."""
    return paginate(queries.filtered(caller, args), queries.DISPLAY_ORDER,
                    args["page"], args["page_size"])


def _visible_or_404(caller, photo_id):
    photo = queries.find_visible(caller, photo_id) if photo_id <= MAX_ID else None
    if photo is None:
        raise NotFound("Photo not found.")
    return photo

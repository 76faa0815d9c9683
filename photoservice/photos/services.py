"""The photo upload flow: create, finalize, read."""
from flask import current_app
from sqlalchemy.dialects.postgresql import insert

from .. import queue, storage
from ..database import MAX_ID, execute, utcnow
from ..errors import Conflict, NotFound
from ..extensions import db
from . import queries
from .models import REFERENCES, Photo, PhotoStatus
from .object_keys import content_type_for, media_kind, object_key
from .references import resolve_job

# Attempts at a fresh random key suffix if one is already taken (~1 in 4 billion).
KEY_ATTEMPTS = 5


def create_photo(caller, data):
    """Create a pending photo and its upload policy; returns (photo, created).

    A known `client_id` returns the company's existing photo (created False).
    """
    given = {field: data.pop(field, None) for field in REFERENCES}
    references = {field: object_id for field, object_id in given.items() if object_id is not None}
    values = dict(
        data,
        company_id=caller.company_id,
        created_by=caller.user_id,
        job_id=resolve_job(caller.company_id, references),
        status=PhotoStatus.PENDING_UPLOAD.value,
        **{REFERENCES[f].key: object_id for f, object_id in references.items() if f != "job"},
    )
    for _ in range(KEY_ATTEMPTS):
        values["key"] = object_key(data["name"], data["is_video"])
        photo = _insert_unless_exists(values)
        if photo is not None:
            photo.upload_url = _upload_policy(photo)
            db.session.commit()
            queue.enqueue_photo(photo.id)
            return photo, True
        if data.get("client_id"):
            existing = _find_by_client_id(caller.company_id, data["client_id"])
            if existing is not None:
                return replay(existing), False
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
    row = execute(_INSERT, values).one_or_none()
    return None if row is None else Photo(**row._mapping)


_INSERT = insert(Photo.__table__).on_conflict_do_nothing().returning(*Photo.__table__.columns)


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


def list_photos(caller, filters, page, page_size):
    """(count, photos on the page): the uploaded photos the caller may see, in display order."""
    return queries.page_of(queries.filtered(caller, filters), page, page_size)


def _visible_or_404(caller, photo_id):
    photo = queries.find_visible(caller, photo_id) if photo_id <= MAX_ID else None
    if photo is None:
        raise NotFound("Photo not found.")
    return photo

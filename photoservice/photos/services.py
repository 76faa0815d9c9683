"""The photo upload flow: create, finalize, who may renew an upload policy, read.

Each returns the photo as a mapping of its stored columns; the routes hand it to
`presenter`, which adds what a response shows beyond the row (policies, links).
"""
from contextlib import contextmanager
from functools import lru_cache

from flask import current_app
from sqlalchemy import bindparam, literal, select
from sqlalchemy.dialects.postgresql import insert

from .. import queue, request_ids, storage
from ..database import MAX_ID, columns_of, execute, stored_row, utcnow
from ..errors import Conflict, NotAllowed, NotFound
from ..extensions import db
from ..media import formats
from . import deletions, events, queries, upload_parts
from .models import REFERENCES, MediaStatus, Photo, PhotoStatus
from .object_keys import media_kind, object_key, original_key
from .references import anchor_of, consistent_references, resolve_job

# Attempts at a fresh random key suffix if one is already taken (~1 in 4 billion).
KEY_ATTEMPTS = 5


def create_photo(caller, data):
    """Create a pending photo; returns (photo, created).

    A `client_id` the caller already used returns that photo (created False); the
    same `client_id` from another user is that user's own new photo.
    """
    given = {field: data.pop(field, None) for field in REFERENCES}
    references = {field: object_id for field, object_id in given.items() if object_id is not None}
    values = dict(
        data,
        company_id=caller.company_id,
        created_by=caller.user_id,
        status=PhotoStatus.PENDING_UPLOAD.value,
        request_id=request_ids.current(),
        **{REFERENCES[f].key: object_id for f, object_id in references.items() if f != "job"},
    )
    for _ in range(KEY_ATTEMPTS):
        values["key"] = object_key(data["name"], data["is_video"])
        photo = _insert_unless_exists(values, references)
        if photo is not None:
            db.session.commit()
            queue.enqueue("metadata", [photo["id"]])
            return photo, True
        if references:  # refused: say which reference is wrong, if one is
            resolve_job(caller.company_id, references)
        if data.get("client_id"):
            existing = _find_by_client_id(caller.user_id, data["client_id"])
            if existing is not None:
                return columns_of(existing), False
    raise RuntimeError("could not find a free object key")


def _insert_unless_exists(values, references):
    """INSERT the photo if its references are right and its client_id and key are free;
    None if not. One statement: the references' check is part of the INSERT.

    The unique constraints decide, so concurrent duplicates make one row. The
    new photo is the row as stored, with the id and job the database gave it, as
    a mapping of its columns: nothing tracks it, and building an ORM instance of
    44 columns cost a create ~30 us.
    """
    row = stored_row(Photo.__table__, values)
    del row["job_id"]  # the job of the references, found by the statement
    inserted = execute(_insert_statement(tuple(references)), dict(row, **references)).one_or_none()
    if inserted is None:
        return None
    return dict(row, **inserted._mapping)


@lru_cache(maxsize=None)
def _insert_statement(fields):
    """INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING id, job_id, for photos whose
    references are `fields`: the row only where each one exists in the company and all
    share one job, which becomes the photo's job. Built once per combination (at most 32)."""
    table = Photo.__table__
    columns = [column for column in table.columns if column.key not in ("id", "job_id")]
    if fields:
        refs, consistent = consistent_references(fields)
        job, where = refs.c[anchor_of(fields)], [consistent]
    else:
        job, where = literal(None, type_=table.c.job_id.type), []
    source = select(*(bindparam(column.key, type_=column.type) for column in columns), job).where(*where)
    return (insert(table).from_select([*columns, table.c.job_id], source)
            .on_conflict_do_nothing().returning(table.c.id, table.c.job_id))


def _find_by_client_id(user_id, client_id):
    return db.session.execute(
        db.select(Photo).where(Photo.created_by == user_id, Photo.client_id == client_id)
    ).scalar_one_or_none()


def photo_to_upload(caller, photo_id):
    """The pending photo whose creator asks for a fresh upload policy for the same key.

    For the phone whose policy expired before it could upload (offline, say).
    """
    return columns_of(own_pending(caller, photo_id))


def own_pending(caller, photo_id, lock=False):
    """The photo if the caller created it and it is still pending (`lock`: its row locked
    until commit): 404 if they cannot see it, 403 if not theirs, 409 once uploaded."""
    photo = visible_or_404(caller, photo_id, lock)
    if photo.created_by != caller.user_id:
        raise NotAllowed("Only the user who created the photo can upload its file.")
    if photo.is_uploaded:
        raise Conflict("The photo is already uploaded; its file cannot be replaced.")
    return photo


def get_photo(caller, photo_id):
    """One photo the caller may see."""
    return columns_of(visible_or_404(caller, photo_id))


def finalize_upload(caller, photo_id):
    """Mark a photo uploaded once its file is really in the store and really a photo
    (or video), and make that file its original. Repeatable: an uploaded photo is
    returned as it is.

    The checked upload is copied to `original_key`, which no upload policy names, so
    a later POST with a still valid policy changes nothing served; the upload object
    goes now and once more after the last policy has expired.
    """
    photo = visible_or_404(caller, photo_id)
    if photo.is_uploaded:
        return columns_of(photo)
    if photo.multipart_upload_id is not None:
        return _finalize_resumable(photo_id)
    stored, content_type = _checked_upload(photo)
    # The photo may have been deleted (or finalized by a repeat) since it was read.
    # From here to the commit its row is locked, across the copy (~0.3 s for 100 MiB):
    # a repeat or a delete waits, so one finalize writes the original and commits it.
    photo = _relocked(photo_id)
    if photo.is_uploaded:
        return columns_of(photo)
    if photo.multipart_upload_id is not None:  # opened since it was read: that upload decides
        return _finalize_resumable(photo_id)
    original = original_key(photo.key)
    with _same_upload():
        storage.promote(photo.key, original, stored.etag, content_type)
    return _record_upload(photo, original, stored, content_type)


def _finalize_resumable(photo_id):
    """Finalize through an open multipart upload: completed from the store's own part list
    into the original's key, then checked there; nothing is copied.

    The row is locked from the start: a repeat, an abort or a delete waits, so one
    finalize completes the upload and commits it.
    """
    photo = _relocked(photo_id)
    if photo.is_uploaded:
        return columns_of(photo)
    if photo.multipart_upload_id is None:  # aborted since it was read
        raise upload_parts.UploadGone()
    original = original_key(photo.key)
    try:
        stored = upload_parts.complete(photo, original)
        content_type = _checked_resumable(photo, original, stored)
    except upload_parts.UploadGone:
        _forget_upload(photo)
        raise
    _forget_upload(photo, commit=False)
    return _record_upload(photo, original, stored, content_type)


def _relocked(photo_id):
    """The photo read afresh, its row locked until commit; NotFound if it has gone since."""
    photo = queries.lock(photo_id)
    if photo is None:
        raise NotFound("Photo not found.")
    return photo


def _checked_resumable(photo, original, stored):
    """The content type of a completed upload, checked as a POST's is against the limit of
    its kind; a file refused is removed and the upload forgotten (start again)."""
    if stored.size > upload_parts.upload_limit(photo.is_video):
        storage.delete_objects([original])
        _forget_upload(photo)
        raise Conflict("The stored file is larger than the size limit; it was removed.")
    try:
        return _checked_content(photo, stored.etag, original)
    except Conflict:
        _forget_upload(photo)
        raise


def _forget_upload(photo, commit=True):
    photo.multipart_upload_id = photo.multipart_size = photo.multipart_part_size = None
    if commit:
        db.session.commit()


def _record_upload(photo, original, stored, content_type):
    """Make the checked file the photo's original and the photo uploaded; queue its media work."""
    photo.original_key = original
    photo.content_type = content_type
    photo.size, photo.etag = stored.size, stored.etag
    photo.status = PhotoStatus.UPLOADED.value
    photo.uploaded_at = utcnow()
    photo.media_status, photo.media_dispatched_at = MediaStatus.QUEUED.value, utcnow()
    photo.media_request_id = request_ids.current()
    removals = deletions.schedule_upload_removal(photo)
    deliveries = events.photo_uploaded(photo)
    db.session.commit()
    queue.enqueue("store_deletion", removals)
    queue.enqueue("media", [photo.id])
    queue.enqueue("delivery", deliveries)
    return columns_of(photo)


@contextmanager
def _same_upload():
    """Store calls made on condition that the upload is still the version first seen: a
    re-POST since is a 409 (finalize again), never a promotion of bytes nobody checked."""
    try:
        yield
    except storage.ObjectChanged:
        raise Conflict("The uploaded file changed while it was being checked; finalize again.") from None


def _checked_upload(photo):
    """What the store holds for a photo, checked against its upload policy: (object, content type)."""
    stored = storage.stat_object(photo.key)
    if stored is None:
        raise Conflict("The file has not been uploaded yet: POST it to upload_url, then retry.")
    media = media_kind(photo.is_video)
    if stored.size > current_app.config["PHOTO_UPLOAD_MAX_BYTES"] or \
            not stored.content_type.startswith(f"{media}/"):
        raise Conflict(f"The stored file does not fit the upload policy ({media}/*, size limit).")
    return stored, _checked_content(photo, stored.etag)


def _checked_content(photo, etag, key=None):
    """The content type the stored bytes (version `etag` of `key`, the upload's by default)
    really are, whatever the upload claimed.

    A file of another kind is removed from the store and refused; the photo stays
    pending, so the client can upload the right file and finalize again.
    """
    key = key or photo.key
    with _same_upload():
        head = storage.read_head(key, formats.SNIFF_BYTES, etag)
    found = formats.sniff(head or b"")
    if formats.accepted(found, photo.is_video):
        return found
    storage.delete_objects([key])
    expected = "an MP4 or QuickTime video" if photo.is_video else "a JPEG, PNG, HEIC/HEIF or WebP image"
    raise Conflict(f"The uploaded file is {formats.describe(head or b'')}, not {expected}; it was "
                   "removed. Upload the file again with the same upload_url fields, then finalize.")


def list_photos(caller, filters, page, page_size):
    """(count, photos on the page): the uploaded photos the caller may see, in display order,
    as mappings of their listed columns (queries.LISTED_COLUMNS)."""
    return queries.page_of(caller, filters, page, page_size)


def visible_or_404(caller, photo_id, lock=False):
    """The photo if the caller may see it (`lock`: its row locked until commit); else NotFound."""
    photo = queries.find_visible(caller, photo_id, lock) if photo_id <= MAX_ID else None
    if photo is None:
        raise NotFound("Photo not found.")
    return photo

"""Finalize: a pending photo becomes uploaded once its file is really in the store and really
a photo (or video), by either path the file came: the presigned POST (its upload is copied
to the original's key) or a resumable upload (completed at the original's key, nothing
copied). Returns the photo as a mapping of its stored columns, as services does.
"""
from contextlib import contextmanager

from flask import current_app

from .. import queue, request_ids, storage
from ..database import columns_of, utcnow
from ..errors import Conflict, NotFound
from ..extensions import db
from ..media import formats
from . import deletions, events, outbox, queries, upload_parts
from .models import MediaStatus, PhotoStatus
from .object_keys import media_kind, original_key
from .services import visible_or_404


def finalize_upload(caller, photo_id):
    """Mark a photo uploaded once its file is really in the store and really a photo
    (or video), and make that file its original. Repeatable: an uploaded photo is
    returned as it is.

    The checked upload is copied to `original_key`, which no upload policy names, so
    a later POST with a still valid policy changes nothing served; the upload object
    goes now and once more after the last policy has expired. A photo with a resumable
    upload open is finalized through it instead (_finalize_resumable).
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
    # Sent now, or held back while the company has its fair share of media work with
    # the broker (photos/outbox.py); then the company's oldest held-back work goes.
    sent = outbox.media_marker(photo.company_id)
    photo.media_status, photo.media_dispatched_at = MediaStatus.QUEUED.value, sent
    photo.media_request_id = request_ids.current()
    photo_id, company_id = photo.id, photo.company_id
    removals = deletions.schedule_upload_removal(photo)
    deliveries = events.photo_uploaded(photo)
    db.session.commit()
    queue.enqueue("store_deletion", removals)
    if sent is not None:
        queue.enqueue("media", [photo_id])
    else:
        queue.send_claimed("media", outbox.claim_media(company_id))
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

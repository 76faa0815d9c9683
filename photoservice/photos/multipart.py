"""Resumable uploads: a pending photo's file sent in parts (S3 multipart) through
presigned part URLs, for large files and bad networks.

Only the photo's creator, only while it is pending (`services.own_pending`). The
store remembers which parts arrived; finalize completes the upload from that list
(finalize._finalize_resumable). Each function returns the photo as a mapping of its
columns, with what its route shows beside it; the presenter signs the part URLs.
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from .. import multipart_store
from ..database import columns_of, utcnow
from ..errors import Conflict, InvalidInput, NotFound
from ..extensions import db
from .models import Photo, PhotoStatus
from .object_keys import content_type_for, media_kind, original_key, upload_key_of
from .services import own_pending
from .upload_parts import part_count, part_length, part_size_for, upload_limit

#: The sweep leaves uploads younger than this alone: one just opened may not have
#: its photo's row committed yet.
ORPHAN_GRACE = timedelta(minutes=10)


def start_upload(caller, photo_id, size):
    """Open a multipart upload of `size` bytes for the photo's file; (photo, created).

    The one already open is returned if it has the same size (a client that lost the
    answer asks again); another size is a 409 until it is aborted.
    """
    photo = own_pending(caller, photo_id, lock=True)
    limit = upload_limit(photo.is_video)
    if size > limit:
        raise InvalidInput(errors={"size": [f"At most {limit} bytes for a {media_kind(photo.is_video)}."]})
    if photo.multipart_upload_id is not None:
        if photo.multipart_size == size:
            return columns_of(photo), False
        raise Conflict(f"A resumable upload of {photo.multipart_size} bytes is open for this photo: "
                       "abort it (DELETE multipart/) to start one of another size.")
    # The upload goes to the original's key: once completed it is the original, unchanged.
    upload_id = multipart_store.create(original_key(photo.key), content_type_for(photo.key, photo.is_video))
    photo.multipart_upload_id, photo.multipart_size = upload_id, size
    photo.multipart_part_size = part_size_for(size)
    db.session.commit()
    return columns_of(photo), True


def parts_to_send(caller, photo_id, part_numbers):
    """The photo and [(part number, exact length)] of the parts asked for, each once."""
    photo = _open_upload(caller, photo_id)
    count = part_count(photo.multipart_size, photo.multipart_part_size)
    beyond = sorted({number for number in part_numbers if number > count})
    if beyond:
        raise InvalidInput(errors={"part_numbers": [
            f"This upload has parts 1 to {count}; not {', '.join(map(str, beyond[:10]))}."]})
    return columns_of(photo), [(number, part_length(number, photo.multipart_size, photo.multipart_part_size))
                               for number in dict.fromkeys(part_numbers)]


def upload_status(caller, photo_id):
    """The photo and the parts the store has received ([(number, size)]): what a client
    reads to resume. 404 when no upload is open."""
    photo = _open_upload(caller, photo_id)
    received = multipart_store.parts(original_key(photo.key), photo.multipart_upload_id)
    db.session.commit()
    if received is None:
        raise _none_open()
    return columns_of(photo), [(part.number, part.size) for part in received]


def abort_upload(caller, photo_id):
    """Abort the photo's open upload, its parts removed; the photo stays pending."""
    photo = _open_upload(caller, photo_id, lock=True)
    multipart_store.abort(original_key(photo.key), photo.multipart_upload_id)
    photo.multipart_upload_id = photo.multipart_size = photo.multipart_part_size = None
    db.session.commit()


def expires_at(row):
    """When an upload left unfinished is aborted: with its photo, at the pending TTL."""
    return row["created_at"] + timedelta(seconds=current_app.config["PHOTO_PENDING_TTL"])


def _open_upload(caller, photo_id, lock=False):
    photo = own_pending(caller, photo_id, lock)
    if photo.multipart_upload_id is None:
        raise _none_open()
    return photo


def _none_open():
    return NotFound("No resumable upload is open for this photo: start one (POST multipart/).")


def abort_orphans():
    """Abort open uploads that no photo holds (its photo deleted, or the upload replaced)
    or older than PHOTO_PENDING_TTL; how many. At most 10,000 listed a sweep."""
    now = utcnow()
    uploads = [upload for upload in multipart_store.open_uploads() if upload.initiated < now - ORPHAN_GRACE]
    if not uploads:
        return 0
    keys = {upload_key_of(upload.key) for upload in uploads} - {None}
    held = set(db.session.execute(select(Photo.key, Photo.multipart_upload_id).where(
        Photo.key.in_(keys), Photo.status == PhotoStatus.PENDING_UPLOAD.value,
        Photo.multipart_upload_id.is_not(None))).all())
    db.session.commit()
    stale = now - timedelta(seconds=current_app.config["PHOTO_PENDING_TTL"])
    orphans = [upload for upload in uploads
               if (upload_key_of(upload.key), upload.upload_id) not in held or upload.initiated < stale]
    for upload in orphans:
        multipart_store.abort(upload.key, upload.upload_id)
    return len(orphans)

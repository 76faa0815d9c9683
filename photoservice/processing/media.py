"""A photo's media work: what the uploaded file itself says, and its derivatives.

A video's file is read the same way (media/video.py): its container's facts and
a poster frame's derivatives, then the same rules for time and place.

Called by the Celery task `workers.tasks.process_media` (queue `media`) and
directly by tests. Takes ids, re-reads the row, and is safe to run twice.

Two steps, each committed: the file (hash, size as displayed, derivatives,
and what its EXIF or a video's container says where the client said nothing),
then, when the file gave the only location, its place through the shared
geocoding cache and gate; only then is the media work `processed`. A retry after a geocoder outage
repeats only the second step (`sha256` set means the file was read).

It sits in `processing`, above both `photos` (the row) and `media` (what a file
says, knowing nothing of photos), so neither of those imports the other.
"""
import logging
import tempfile

from flask import current_app
from sqlalchemy.orm.exc import StaleDataError

from .. import queue, storage
from ..database import utcnow
from ..extensions import db
from ..geocoding.geocoders import GeocodingRefused
from ..geocoding.reverse import reverse_geocode
from ..media.gps import UnparseableLocation, coordinates_from_exif
from ..media.images import MediaRefused, analyse_image
from ..media.video import analyse_video
from ..photos import deletions
from ..photos.models import CapturedAtSource, MediaStatus, Photo
from ..photos.object_keys import derivative_key, served_key, stored_keys
from ..photos.outbox import attempts_exhausted
from ..redaction import redacted_error
from .services import GEOCODING_REFUSED

log = logging.getLogger(__name__)

DERIVATIVE_TYPE = "image/jpeg"
SPOOL_IN_MEMORY = 32 * 2**20


def process_media(photo_id):
    """Hash, measure and derive a photo's file; returns the photo (None if gone).

    Raises DependencyUnavailable (the store), GeocodingUnavailable, GateBusy or a
    database error when it should be retried. A file that can never be read is a
    permanent failure, recorded on the photo. A photo deleted meanwhile is no error.
    """
    photo = db.session.get(Photo, photo_id)
    if photo is None:
        return None
    keys = stored_keys(photo)
    try:
        return _process(photo)
    except StaleDataError:
        # Deleted while this ran: its row was gone when the work was saved. The
        # deletion scheduled what was stored at the time; a derivative stored since
        # would stay behind, so everything under the photo's key goes once more.
        db.session.rollback()
        deletion_ids = deletions.schedule_keys(keys)
        db.session.commit()
        queue.enqueue("store_deletion", deletion_ids)
        return None


def _process(photo):
    if photo.media_status != MediaStatus.QUEUED.value:
        return photo
    if photo.sha256 is None:  # the file has not been read yet
        limit = current_app.config["PROCESSING_MAX_ATTEMPTS"]
        if photo.media_attempts >= limit:  # e.g. a file that killed the worker each time
            return record_media_failure(photo.id, attempts_exhausted(limit))
        photo.media_attempts += 1
        db.session.commit()  # the attempt counts even if this file kills the process
        refused = _read_file(photo)
        if refused:
            return record_media_failure(photo.id, refused, sha256=photo.sha256)
        db.session.commit()  # the file's facts are saved: a retry goes on from here
    if _needs_place(photo):
        try:
            photo.location = reverse_geocode(photo.latitude, photo.longitude)
        except GeocodingRefused as error:
            log.warning("photo %s: reverse geocoding refused: %s", photo.id, redacted_error(error))
            photo.location_error = GEOCODING_REFUSED
    photo.media_status, photo.media_error = MediaStatus.PROCESSED.value, None
    photo.media_processed_at = utcnow()
    db.session.commit()
    return photo


def _read_file(photo):
    """Fill in the file's facts on `photo` (not committed); the reason if it was refused."""
    with _spool(photo) as spool:
        copied = storage.copy_to_file(served_key(photo.key, photo.original_key), spool)
        if copied is None:
            return "The file is no longer in the store."
        photo.sha256, _size = copied
        analyse = analyse_video if photo.is_video else analyse_image
        try:
            facts = analyse(spool, current_app.config["MEDIA_MAX_PIXELS"])
        except MediaRefused as error:
            return str(error)
    variants = {}
    for derivative in facts.derivatives:
        key = derivative_key(photo.key, derivative.name)
        storage.put_object(key, derivative.data, DERIVATIVE_TYPE)
        variants[derivative.name] = {"key": key, "width": derivative.width,
                                     "height": derivative.height}
    photo.width, photo.height, photo.variants = facts.width, facts.height, variants
    photo.duration = facts.duration if photo.is_video else None
    photo.media_warnings = list(facts.warnings)  # metadata the file carried but was ignored
    if facts.captured_at is not None and _client_capture_time(photo) is None:
        photo.captured_at, photo.captured_at_source = facts.captured_at, CapturedAtSource.FILE.value
    if facts.latitude is not None and _client_coordinates(photo) is None:
        photo.latitude, photo.longitude = facts.latitude, facts.longitude
    return None


def _spool(photo):
    """A local file for the original: in memory up to SPOOL_IN_MEMORY bytes (a phone
    photo), on disk past it; a video on disk from the start (growing an in-memory
    copy to the limit first would cost the worker twice that at its peak)."""
    if photo.is_video:
        return tempfile.TemporaryFile(prefix="photoservice-media-")
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY, prefix="photoservice-media-")


def _client_capture_time(photo):
    return (photo.exif or {}).get("timestamp")


def _client_coordinates(photo):
    try:
        return coordinates_from_exif(photo.exif)
    except UnparseableLocation:
        return None  # what the client sent is unusable: the file may fill it


def _needs_place(photo):
    """The location came from the file alone and has not been geocoded yet."""
    return (photo.latitude is not None and photo.location is None and photo.location_error is None
            and _client_coordinates(photo) is None)


def record_media_failure(photo_id, reason, sha256=None):
    """Mark a photo's media work as failed for good, keeping the hash if it was found."""
    db.session.rollback()
    photo = db.session.get(Photo, photo_id)
    if photo is not None and photo.media_status == MediaStatus.QUEUED.value:
        photo.sha256 = sha256 or photo.sha256
        photo.media_status = MediaStatus.FAILED.value
        photo.media_error = reason[:2000]
        db.session.commit()
    return photo


"""A photo's media work: what the uploaded file itself says, and its derivatives.

A video's file is read the same way (media/video.py): its container's facts and
a poster frame's derivatives, then the same rules for time and place.

Called by the Celery task `workers.tasks.process_media` (queue `media`) and
directly by tests. Takes ids, re-reads the row, and is safe to run twice.

The attempt is counted and committed first, in the one statement that claims the
work and reads the row, since a file could kill the process. Then the file is read
once (arriving.py: a photo is hashed and decoded while it downloads), its
derivatives are stored side by side and, when the file gave the only location, its
place is found through the shared geocoding cache and gate; all of it is saved in
one commit, the work `processed`. Nothing is recorded until every derivative is
stored. A geocoding step that fails saves the file's facts first, so a retry after a
geocoder outage repeats only that step (`sha256` set means the file was read).

It sits in `processing`, above both `photos` (the row) and `media` (what a file
says, knowing nothing of photos), so neither of those imports the other.
"""
import logging
import tempfile
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import update
from sqlalchemy.orm.exc import StaleDataError

from .. import queue, storage
from ..database import utcnow
from ..extensions import db
from ..geocoding.geocoders import GeocodingRefused
from ..geocoding.reverse import reverse_geocode
from ..media.gps import UnparseableLocation, coordinates_from_exif
from ..derivatives import DERIVATIVES
from ..media.images import MediaRefused, analyse_image
from ..media.video import analyse_video
from ..photos import deletions
from ..photos.models import CapturedAtSource, MediaStatus, Photo
from ..photos.object_keys import derivative_key, served_key, stored_keys
from ..photos.outbox import attempts_exhausted
from ..redaction import redacted_error
from .arriving import arriving, copy_hashed
from .services import GEOCODING_REFUSED

log = logging.getLogger(__name__)

DERIVATIVE_TYPE = "image/jpeg"


def process_media(photo_id):
    """Hash, measure and derive a photo's file; returns the photo (None if gone).

    Raises DependencyUnavailable (the store), GeocodingUnavailable, GateBusy or a
    database error when it should be retried. A file that can never be read is a
    permanent failure, recorded on the photo. A photo deleted meanwhile is no error.
    """
    photo, reading = _claim(photo_id)
    if photo is None:
        return None
    keys = stored_keys(photo)
    try:
        return _process(photo, reading)
    except StaleDataError:
        # Deleted while this ran: its row was gone when the work was saved. The
        # deletion scheduled what was stored at the time; a derivative stored since
        # would stay behind, so everything under the photo's key goes once more.
        db.session.rollback()
        deletion_ids = deletions.schedule_keys(keys)
        db.session.commit()
        queue.enqueue("store_deletion", deletion_ids)
        return None


def _claim(photo_id):
    """(the photo or None, whether its file is to be read now). A queued photo whose file
    has not been read, with attempts left, is claimed by one UPDATE that counts the
    attempt and returns the row; the commit keeps it loaded (nothing to read again)."""
    limit = current_app.config["PROCESSING_MAX_ATTEMPTS"]
    claimed = db.session.scalars(
        update(Photo).where(Photo.id == photo_id, Photo.media_status == MediaStatus.QUEUED.value,
                            Photo.sha256.is_(None), Photo.media_attempts < limit)
        .values(media_attempts=Photo.media_attempts + 1).returning(Photo),
        execution_options={"populate_existing": True}).one_or_none()
    if claimed is None:  # gone, done, read already (only the place is left), or no attempts left
        return db.session.get(Photo, photo_id), False
    session = db.session()
    expiring, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()  # the attempt counts even if this file kills the process
    finally:
        session.expire_on_commit = expiring
    return claimed, True


def _process(photo, reading):
    if photo.media_status != MediaStatus.QUEUED.value:
        return photo
    if reading:
        refused, sha256 = _read_file(photo)
        if refused:
            return record_media_failure(photo.id, refused, sha256=sha256)
    elif photo.sha256 is None:  # e.g. a file that killed the worker each time
        return record_media_failure(photo.id, attempts_exhausted(
            current_app.config["PROCESSING_MAX_ATTEMPTS"]))
    if _needs_place(photo):
        try:
            # Nothing is written before the geocoder answers: no row lock is held meanwhile.
            with db.session.no_autoflush:
                photo.location = reverse_geocode(photo.latitude, photo.longitude)
        except GeocodingRefused as error:
            log.warning("photo %s: reverse geocoding refused: %s", photo.id, redacted_error(error))
            photo.location_error = GEOCODING_REFUSED
        except Exception:
            db.session.commit()  # the file's facts are saved: a retry goes on from here
            raise
    photo.media_status, photo.media_error = MediaStatus.PROCESSED.value, None
    photo.media_processed_at = utcnow()
    db.session.commit()
    return photo


def _read_file(photo):
    """Fill in the file's facts on `photo` (not committed) once its derivatives are
    stored; returns (the reason it was refused or None, its sha256).

    A photo's derivatives are stored as they are made: the largest is on its way while
    the smaller ones are made (an image is never refused once one is made). A video's
    poster frame comes last in its work: its derivatives are stored side by side after."""
    keys = {name: derivative_key(photo.key, name) for name in DERIVATIVES}
    with storage.storing() as put:
        store = lambda made: put(keys[made.name], made.data, DERIVATIVE_TYPE)  # noqa: E731
        with _original(photo) as (original, digest):
            if original is None:
                return "The file is no longer in the store.", None
            try:
                facts = (analyse_video(original, current_app.config["MEDIA_MAX_PIXELS"]) if photo.is_video
                         else analyse_image(original, current_app.config["MEDIA_MAX_PIXELS"], made=store))
            except MediaRefused as error:
                refused = str(error)
            else:
                refused = None
        if refused:
            return refused, digest[0]
        if photo.is_video:
            for derivative in facts.derivatives:
                store(derivative)
    photo.sha256 = digest[0]
    photo.width, photo.height = facts.width, facts.height
    photo.variants = {derivative.name: {"key": keys[derivative.name], "width": derivative.width,
                                        "height": derivative.height}
                      for derivative in facts.derivatives}
    photo.duration = facts.duration if photo.is_video else None
    photo.media_warnings = list(facts.warnings)  # metadata the file carried but was ignored
    if facts.captured_at is not None and _client_capture_time(photo) is None:
        photo.captured_at, photo.captured_at_source = facts.captured_at, CapturedAtSource.FILE.value
    if facts.latitude is not None and _client_coordinates(photo) is None:
        photo.latitude, photo.longitude = facts.latitude, facts.longitude
    return None, photo.sha256


@contextmanager
def _original(photo):
    """(the original as a readable file, a list holding its sha256 once the block ends), or
    (None, None) when it is no longer in the store.

    A photo is read as it arrives (arriving.py). A video is copied whole first: its
    demuxer starts with the index, which phones write at the end of the file.
    Either way the bytes are on disk (in the page cache), never in the worker's memory.
    """
    opened = storage.open_object(served_key(photo.key, photo.original_key))
    if opened is None:
        yield None, None
        return
    size, chunks = opened
    if not photo.is_video:
        with arriving(size, chunks) as streamed:
            yield streamed
        return
    with tempfile.TemporaryFile(prefix="photoservice-media-") as spool:
        yield spool, [copy_hashed(chunks, spool)]


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


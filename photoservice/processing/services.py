"""A photo's background work: capture date, location and parent job.

Called by the Celery tasks in `workers.tasks`, and directly by tests. Every
function takes ids, re-reads the row and is safe to run twice.
"""
import logging
from datetime import datetime, timezone

from sqlalchemy import bindparam
from sqlalchemy.orm.exc import StaleDataError

from ..database import execute, utcnow
from ..extensions import db
from ..geocoding.cache import MISS
from ..geocoding.geocoders import GeocodingRefused
from ..geocoding.reverse import cached_place, geocode_miss
from ..jobs.queries import job_of
from ..photos.models import CapturedAtSource, Photo, ProcessingStatus
from ..redaction import redacted_error
from ..media.gps import UnparseableLocation, coordinates_from_exif

log = logging.getLogger(__name__)

#: Stable texts for the row; the geocoder's own words (which quote the point) go to the log.
GEOCODING_REFUSED = "Reverse geocoding refused: the geocoder turned the request down."


def capture_time(exif):
    """`exif.timestamp` (Unix milliseconds, checked at create) as a UTC datetime."""
    stamp = (exif or {}).get("timestamp")
    if stamp is None:
        return None
    return datetime.fromtimestamp(stamp / 1000, tz=timezone.utc)


_PARENT_JOB = job_of("job_inspection_line_item", bindparam("line_item_id"), bindparam("company_id"))


def parent_job_id(company_id, line_item_id):
    """The job of an inspection line item of the company, or None."""
    return execute(_PARENT_JOB, {"line_item_id": line_item_id,
                                 "company_id": company_id}).scalar_one_or_none()


def process_photo(photo_id):
    """Fill in what a photo's metadata implies. Returns the photo (None if gone).

    Raises GeocodingUnavailable, GateBusy or a database error when it should be
    retried; what was worked out before a geocoder call is already saved.
    """
    photo = db.session.get(Photo, photo_id)
    if photo is None or photo.processing_status == ProcessingStatus.PROCESSED.value:
        return photo
    try:
        return _fill_in(photo)
    except StaleDataError:
        # Deleted while this ran (the geocoder call can be slow): nothing is left to do.
        db.session.rollback()
        return None


def _fill_in(photo):
    photo.processing_attempts += 1
    # What the client sent wins; what it left out, the media work may find in the
    # file itself (it never writes what the client gave, so the two never clash).
    captured_at = capture_time(photo.exif)
    if captured_at is not None:
        photo.captured_at, photo.captured_at_source = captured_at, CapturedAtSource.CLIENT.value
    if photo.job_inspection_line_item_id is not None:
        photo.job_id = parent_job_id(photo.company_id, photo.job_inspection_line_item_id) or photo.job_id
    try:
        coordinates = coordinates_from_exif(photo.exif)
        photo.location_error = None
    except UnparseableLocation as error:
        coordinates, photo.location_error = None, str(error)

    if coordinates is not None:
        photo.latitude, photo.longitude = coordinates
        # Most photos are near one already geocoded: then all is known now, in one
        # transaction. Otherwise the attempt and the work so far are saved before the
        # geocoder call, which may be slow, fail or kill the process.
        place = cached_place(*coordinates)
        if place is MISS:
            photo.processing_status = ProcessingStatus.PROCESSING.value
            db.session.commit()
            try:
                place = geocode_miss(*coordinates)
            except GeocodingRefused as error:
                log.warning("photo %s: reverse geocoding refused: %s", photo.id, redacted_error(error))
                return record_failure(photo.id, GEOCODING_REFUSED)
        photo.location = place
    photo.processing_status = ProcessingStatus.PROCESSED.value
    photo.processing_error = None
    photo.processed_at = utcnow()
    db.session.commit()
    return photo


def record_failure(photo_id, reason):
    """Mark a photo's background work as failed for good, keeping what was done."""
    db.session.rollback()
    photo = db.session.get(Photo, photo_id)
    if photo is not None and photo.processing_status != ProcessingStatus.PROCESSED.value:
        photo.processing_status = ProcessingStatus.FAILED.value
        photo.processing_error = reason[:2000]
        db.session.commit()
    return photo


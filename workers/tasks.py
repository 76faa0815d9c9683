"""Celery tasks: retries and delivery only; the work is in photoservice.processing."""
import logging
import random

from celery import shared_task
from flask import current_app
from redis.exceptions import RedisError

from photoservice.database import DATABASE_UNAVAILABLE
from photoservice.geocoding.geocoders import GateBusy, GeocodingUnavailable
from photoservice.photos import outbox
from photoservice.processing import services as processing
from photoservice.queue import PROCESS_PHOTO
from photoservice.settings import SWEEP_TASK

log = logging.getLogger(__name__)

# Worth another try later: the same database outages the web answers 503 for,
# a busy or failing geocoder, Redis (the gate) and the network.
TRANSIENT = (*DATABASE_UNAVAILABLE, GeocodingUnavailable, GateBusy, RedisError, OSError)
BACKOFF_BASE, BACKOFF_MAX = 2, 600


def backoff(retries, at_least=None):
    """Exponential backoff with full jitter, never shorter than a Retry-After."""
    delay = random.uniform(0, min(BACKOFF_MAX, BACKOFF_BASE * 2 ** retries))
    return max(delay, float(at_least or 0))


@shared_task(name=PROCESS_PHOTO, bind=True, acks_late=True, max_retries=None)
def process_photo(self, photo_id):
    """Capture date, location and parent job of one photo."""
    try:
        processing.process_photo(photo_id)
    except TRANSIENT as error:
        tries = self.request.retries + 1
        if tries >= current_app.config["PROCESSING_MAX_ATTEMPTS"]:
            processing.record_failure(photo_id, f"Gave up after {tries} tries: {error}")
            return
        countdown = backoff(self.request.retries, getattr(error, "retry_after", None))
        try:
            processing.note_retry(photo_id, countdown)
        except DATABASE_UNAVAILABLE:
            # The outage that failed the task may stop us noting the retry: retry all
            # the same (at worst the sweep also re-sends it; the task is idempotent).
            log.warning("photo %s: retry in %.0f s not noted, the database is down", photo_id, countdown)
        raise self.retry(exc=error, countdown=countdown)
    except Exception as error:
        # Not transient: retrying cannot help. The photo says so at once, keeping
        # what an earlier commit of this attempt saved; Celery still logs the error.
        processing.record_failure(photo_id, f"Processing failed: {type(error).__name__}: {error}")
        raise


@shared_task(name=SWEEP_TASK, acks_late=True, ignore_result=True)
def sweep_processing():
    """Send work the broker never got (it was down) or that was lost (a dead worker)."""
    photo_ids = processing.due_for_dispatch()
    for photo_id in photo_ids:
        process_photo.apply_async(args=[photo_id])
    outbox.mark_dispatched(photo_ids)
    if photo_ids:
        log.info("swept %d photos into the queue", len(photo_ids))

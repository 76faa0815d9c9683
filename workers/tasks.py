"""Celery tasks: retries and delivery only; the work is in the services they call."""
import logging
import random
from dataclasses import dataclass
from functools import partial
from typing import Callable

from celery import shared_task
from flask import current_app
from redis.exceptions import RedisError

from photoservice.database import DATABASE_UNAVAILABLE
from photoservice.errors import DependencyUnavailable
from photoservice.geocoding.geocoders import GateBusy, GeocodingUnavailable
from photoservice.media import services as media
from photoservice.photos import deletions, lifecycle, outbox
from photoservice.processing import services as processing
from photoservice.queue import (DELETE_STORED_OBJECTS, DELETION_BATCH, DELIVER_WEBHOOK, PROCESS_MEDIA,
                                PROCESS_PHOTO, enqueue_deliveries)
from photoservice.settings import SWEEP_TASK
from photoservice.webhooks import delivery, events
from photoservice.webhooks import outbox as webhook_outbox

log = logging.getLogger(__name__)

# Worth another try later: the same database outages the web answers 503 for, the
# object store being down, a busy or failing geocoder, Redis (the gate), the network.
TRANSIENT = (*DATABASE_UNAVAILABLE, DependencyUnavailable, GeocodingUnavailable, GateBusy,
             RedisError, OSError)
BACKOFF_BASE, BACKOFF_MAX = 2, 600


def backoff(retries, at_least=None):
    """Exponential backoff with full jitter, never shorter than a Retry-After."""
    delay = random.uniform(0, min(BACKOFF_MAX, BACKOFF_BASE * 2 ** retries))
    return max(delay, float(at_least or 0))


@dataclass(frozen=True)
class Work:
    """One kind of background work, as its task runs it.

    Its subject is a photo id, or for store deletions a list of deletion ids.
    """

    run: Callable  # (subject)
    record_failure: Callable  # (subject, reason)
    note_retry: Callable  # (subject, countdown)
    due: Callable  # () -> ids the sweep sends
    mark_dispatched: Callable  # (ids): the sweep sent them
    finished: Callable = lambda subject: None  # (subject): the work ended, either way


METADATA = Work(processing.process_photo, processing.record_failure, processing.note_retry,
                processing.due_for_dispatch, partial(outbox.mark_dispatched, marker=outbox.METADATA),
                events.announce_processed)
MEDIA = Work(media.process_media, media.record_media_failure, media.note_media_retry,
             media.due_for_media, partial(outbox.mark_dispatched, marker=outbox.MEDIA),
             events.announce_processed)
# A store deletion never fails for good: when its tries run out, the sweep sends it again.
STORE_DELETIONS = Work(deletions.remove_objects, deletions.note_failure, deletions.note_retry,
                       deletions.due, deletions.mark_dispatched)


def run_with_retries(task, work, subject):
    """Run `work`: transient failures retry with backoff, others are recorded as failures.

    Once the work has ended, either way, `work.finished(subject)` runs: a photo's
    work announces `photo.processed` when it ends last (the sweep does if this
    process dies first).
    """
    try:
        work.run(subject)
    except TRANSIENT as error:
        tries = task.request.retries + 1
        if tries >= current_app.config["PROCESSING_MAX_ATTEMPTS"]:
            work.record_failure(subject, f"Gave up after {tries} tries: {error}")
            work.finished(subject)
            return
        countdown = backoff(task.request.retries, getattr(error, "retry_after", None))
        try:
            work.note_retry(subject, countdown)
        except DATABASE_UNAVAILABLE:
            # The outage that failed the task may stop us noting the retry: retry all
            # the same (at worst the sweep also re-sends it; the task is idempotent).
            log.warning("%s %s: retry in %.0f s not noted, the database is down",
                        task.name, subject, countdown)
        raise task.retry(exc=error, countdown=countdown)
    except Exception as error:
        # Not transient: retrying cannot help. The failure is recorded at once (the
        # photo keeps what an earlier commit of this attempt saved; a store deletion
        # waits for the sweep); Celery still logs the error.
        work.record_failure(subject, f"Processing failed: {type(error).__name__}: {error}")
        work.finished(subject)
        raise
    work.finished(subject)


@shared_task(name=PROCESS_PHOTO, bind=True, acks_late=True, max_retries=None)
def process_photo(self, photo_id):
    """Capture date, location and parent job of one photo."""
    run_with_retries(self, METADATA, photo_id)


@shared_task(name=PROCESS_MEDIA, bind=True, acks_late=True, max_retries=None)
def process_media(self, photo_id):
    """Hash, dimensions, file EXIF and derivatives of one uploaded photo (queue `media`)."""
    run_with_retries(self, MEDIA, photo_id)


@shared_task(name=DELIVER_WEBHOOK, bind=True, acks_late=True, max_retries=None)
def deliver_webhook(self, delivery_id):
    """One attempt at one webhook delivery (queue `webhooks`); the row holds its schedule."""
    try:
        wait = delivery.attempt(delivery_id)
    except DATABASE_UNAVAILABLE as error:
        raise self.retry(exc=error, countdown=backoff(self.request.retries))
    if wait is not None:
        enqueue_deliveries([delivery_id], countdown=wait)


@shared_task(name=DELETE_STORED_OBJECTS, bind=True, acks_late=True, max_retries=None)
def delete_stored_objects(self, deletion_ids):
    """Remove deleted photos' objects from the store (store_deletions rows, by id)."""
    run_with_retries(self, STORE_DELETIONS, deletion_ids)


@shared_task(name=SWEEP_TASK, acks_late=True, ignore_result=True)
def sweep_processing():
    """Purge abandoned uploads, then send work the broker never got (it was down) or
    that was lost (a dead worker), webhook deliveries that are due, and
    `photo.processed` events a dead worker missed."""
    purged = lifecycle.purge_abandoned()
    if purged:
        log.info("purged %d pending photos", purged)
    for task, work in ((process_photo, METADATA), (process_media, MEDIA)):
        photo_ids = work.due()
        for photo_id in photo_ids:
            task.apply_async(args=[photo_id])
        work.mark_dispatched(photo_ids)
        if photo_ids:
            log.info("swept %d photos into %s", len(photo_ids), task.name)
    deletion_ids = STORE_DELETIONS.due()
    for start in range(0, len(deletion_ids), DELETION_BATCH):
        delete_stored_objects.apply_async(args=[deletion_ids[start:start + DELETION_BATCH]])
    STORE_DELETIONS.mark_dispatched(deletion_ids)
    if deletion_ids:
        log.info("swept %d store deletions into %s", len(deletion_ids), DELETE_STORED_OBJECTS)
    delivery_ids = webhook_outbox.due_deliveries()
    for delivery_id in delivery_ids:
        deliver_webhook.apply_async(args=[delivery_id])
    webhook_outbox.mark_dispatched(delivery_ids)
    if delivery_ids:
        log.info("swept %d webhook deliveries", len(delivery_ids))
    announced = events.announce_unannounced()
    if announced:
        log.info("announced photo.processed for %d photos a worker left unannounced", len(announced))

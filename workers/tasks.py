"""Celery tasks: retries and delivery only; the work is in the services they call."""
import logging
from functools import partial

from celery import shared_task
from flask import current_app

from photoservice.database import DATABASE_UNAVAILABLE, utcnow
from photoservice.media import services as media
from photoservice.photos import deletions, lifecycle, outbox
from photoservice.processing import services as processing
from photoservice.queue import (DELETE_STORED_OBJECTS, DELETION_BATCH, DELIVER_WEBHOOK, PROCESS_MEDIA,
                                PROCESS_PHOTO, enqueue_deliveries)
from photoservice.redaction import redacted_error
from photoservice.settings import SWEEP_TASK, TIME_LIMITS
from photoservice.sweep_lock import sweep_lock
from photoservice.webhooks import delivery, events
from photoservice.webhooks import outbox as webhook_outbox
from workers.retries import RedactedError, Work, backoff, run_with_retries, stopped_by_time_limit

log = logging.getLogger(__name__)

METADATA = Work(processing.process_photo, processing.record_failure, processing.note_retry,
                processing.due_for_dispatch, partial(outbox.mark_dispatched, marker=outbox.METADATA),
                events.announce_processed)
MEDIA = Work(media.process_media, media.record_media_failure, media.note_media_retry,
             media.due_for_media, partial(outbox.mark_dispatched, marker=outbox.MEDIA),
             events.announce_processed)
# A store deletion never fails for good: when its tries run out, the sweep sends it again.
STORE_DELETIONS = Work(deletions.remove_objects, deletions.note_failure, deletions.note_retry,
                       deletions.due, deletions.mark_dispatched)


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
    """One attempt at one webhook delivery (queue `webhooks`); the row holds its schedule.

    An attempt stopped by the time limit is a failed attempt: its claim counted it, and
    the sweep sends the delivery again once the claim's lease is over.
    """
    started = utcnow()
    try:
        wait = delivery.attempt(delivery_id)
    except Exception as error:
        if stopped_by_time_limit(error):
            limit = current_app.config[TIME_LIMITS[self.name]]
            log.warning("webhook delivery %s: the attempt took longer than %g s", delivery_id, limit)
            webhook_outbox.note_stopped_attempt(delivery_id, started,
                                                f"The attempt took longer than {limit:g} s.")
            return
        if isinstance(error, DATABASE_UNAVAILABLE):
            raise self.retry(exc=RedactedError(redacted_error(error)),
                             countdown=backoff(self.request.retries))
        raise
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
    `photo.processed` events a dead worker missed; delete deliveries past their
    retention. One sweep at a time: a sweep that finds another running does nothing."""
    with sweep_lock() as held:
        if not held:
            log.info("another sweep is running: this one does nothing")
            return
        _sweep()


def _sweep():
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
    expired = webhook_outbox.delete_old_deliveries()
    if expired:
        log.info("deleted %d webhook deliveries past WEBHOOK_DELIVERY_RETENTION", expired)

"""Celery tasks: retries and delivery only; the work is in the services they call.

Each task's name, queue and time limit come from photoservice.work.KINDS; so does
the sweep, which sends every kind's work the broker never got (it was down) or
that was lost (a dead worker).
"""
import logging
from contextlib import contextmanager

from celery import shared_task
from flask import current_app

from photoservice import request_ids, work
from photoservice.database import DATABASE_UNAVAILABLE, utcnow
from photoservice.errors import DependencyUnavailable
from photoservice.extensions import db
from photoservice.photos import deletions, events, lifecycle, multipart
from photoservice.processing import media
from photoservice.processing import services as processing
from photoservice.queue import by_request, enqueue, message_headers, send_claimed
from photoservice.redaction import redacted_error
from photoservice.sweep_lock import sweep_lock
from photoservice.webhooks import delivery
from photoservice.webhooks import outbox as webhook_outbox
from workers.retries import RedactedError, Work, backoff, run_with_retries, stopped_by_time_limit

log = logging.getLogger(__name__)
KINDS = work.KINDS

METADATA = Work("metadata", processing.process_photo, processing.record_failure,
                events.announce_processed)
MEDIA = Work("media", media.process_media, media.record_media_failure, events.announce_processed)
# A store deletion never fails for good: when its tries run out, the sweep sends it again.
STORE_DELETIONS = Work("store_deletion", deletions.remove_objects, deletions.note_failure)


@shared_task(name=KINDS["metadata"].task, bind=True, acks_late=True, max_retries=None)
def process_photo(self, photo_id):
    """Capture date, location and parent job of one photo."""
    run_with_retries(self, METADATA, photo_id)


@shared_task(name=KINDS["media"].task, bind=True, acks_late=True, max_retries=None)
def process_media(self, photo_id):
    """Hash, dimensions, file EXIF and derivatives of one uploaded photo (queue `media`)."""
    with claiming_after("media", photo_id):
        run_with_retries(self, MEDIA, photo_id)


@contextmanager
def claiming_after(kind, subject):
    """Once the task ends (or waits for its retry), send the work its company's fair
    share held back and now has room for (work.Rows.claim_after), each with its own
    request id. An outage leaves that work to the sweep; the task's outcome stands."""
    try:
        yield
    finally:
        try:
            db.session.rollback()  # whatever the task left unsaved is not the claim's
            send_claimed(kind, work.rows(kind).claim_after(subject))
        except Exception as error:
            log.warning("%s work held back for the company of %s left for the sweep: %s",
                        kind, subject, redacted_error(error))


@shared_task(name=KINDS["delivery"].task, bind=True, acks_late=True, max_retries=None)
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
            limit = current_app.config[work.time_limits()[self.name]]
            log.warning("webhook delivery %s: the attempt took longer than %g s", delivery_id, limit)
            webhook_outbox.note_stopped_attempt(delivery_id, started,
                                                f"The attempt took longer than {limit:g} s.")
            return
        if isinstance(error, DATABASE_UNAVAILABLE):
            raise self.retry(exc=RedactedError(redacted_error(error)),
                             countdown=backoff(self.request.retries))
        raise
    if wait is not None:
        enqueue("delivery", [delivery_id], countdown=wait)


@shared_task(name=KINDS["store_deletion"].task, bind=True, acks_late=True, max_retries=None)
def delete_stored_objects(self, deletion_ids):
    """Remove deleted photos' objects from the store (store_deletions rows, by id)."""
    run_with_retries(self, STORE_DELETIONS, deletion_ids)


@shared_task(name=work.SWEEP_TASK, acks_late=True, ignore_result=True)
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
    tasks = current_app.extensions["celery"].tasks
    own = request_ids.current() or request_ids.new_id(request_ids.SWEEP)
    for kind in KINDS.values():
        rows = work.rows(kind.name)
        ids = rows.due()
        for request_id, same in by_request(ids, rows.request_ids(ids), own):
            for subject, _ in work.batches(kind, same):
                tasks[kind.task].apply_async(args=[subject], headers=message_headers(request_id))
        rows.mark_dispatched(ids)
        if ids:
            log.info("swept %s work: %d sent to %s", kind.name, len(ids), kind.task)
    announced = events.announce_unannounced()
    if announced:
        log.info("announced photo.processed for %d photos a worker left unannounced", len(announced))
    expired = webhook_outbox.delete_old_deliveries()
    if expired:
        log.info("deleted %d webhook deliveries past WEBHOOK_DELIVERY_RETENTION", expired)
    _abort_orphan_uploads()


def _abort_orphan_uploads():
    """Abort multipart uploads no photo holds; a store outage leaves them to the next sweep."""
    try:
        aborted = multipart.abort_orphans()
    except DependencyUnavailable as error:
        log.warning("open multipart uploads left for the next sweep: %s", error)
        return
    if aborted:
        log.info("aborted %d multipart uploads no pending photo holds", aborted)

"""Celery, bound to the Flask app, and the hand-off of committed work to it.

Tasks are sent by name so the web process never imports the worker code. Each
kind of work is enqueued with a plain call after its transaction commits; if
the broker is down the call returns and the row's outbox marker is cleared, so
the periodic sweep sends it later: nothing is lost.
"""
import logging

from celery import Celery, Task
from flask import current_app, has_app_context
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from .photos import deletions, outbox
from .settings import DELETE_OBJECTS_TASK, DELIVER_WEBHOOK_TASK, MEDIA_TASK, PHOTO_TASK
from .webhooks import outbox as webhook_outbox

log = logging.getLogger(__name__)

PROCESS_PHOTO = PHOTO_TASK
PROCESS_MEDIA = MEDIA_TASK  # routed to the `media` queue by the Celery settings
DELIVER_WEBHOOK = DELIVER_WEBHOOK_TASK  # routed to the `webhooks` queue
DELETE_STORED_OBJECTS = DELETE_OBJECTS_TASK
#: Store deletions per task: a purge's hundreds of photos become a few tasks.
DELETION_BATCH = 100
BROKER_DOWN = (BrokerError, RedisError, OSError)


def celery_init_app(app):
    """Create the Celery app for `app`, configured from `app.config["CELERY"]`."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            if has_app_context():  # already inside one (eager calls, tests)
                return self.run(*args, **kwargs)
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def send(task_name, *args, countdown=None):
    """Publish one task by name; raises one of BROKER_DOWN at once if the broker is down.

    No time limits in the message: the worker's settings give each task its own (a
    process that has the task registered would otherwise stamp its settings' limits).
    """
    current_app.extensions["celery"].send_task(task_name, args=list(args), countdown=countdown,
                                               retry=False, time_limit=None, soft_time_limit=None)


def _enqueue(task_name, photo_id, marker):
    try:
        send(task_name, photo_id)
    except BROKER_DOWN as error:
        log.warning("broker unavailable, %s of photo %s left for the sweep: %s",
                    task_name, photo_id, error)
        outbox.mark_undispatched(photo_id, marker)


def enqueue_photo(photo_id):
    """Queue a committed photo's metadata work; if the broker is down, the sweep sends it."""
    _enqueue(PROCESS_PHOTO, photo_id, outbox.METADATA)


def enqueue_media(photo_id):
    """Queue an uploaded photo's media work (queue `media`); the sweep covers an outage."""
    _enqueue(PROCESS_MEDIA, photo_id, outbox.MEDIA)


def enqueue_deliveries(delivery_ids, countdown=None):
    """Queue committed webhook deliveries (queue `webhooks`), one task each, so each
    attempt shows in Flower; if the broker is down, the sweep sends them."""
    for sent, delivery_id in enumerate(delivery_ids):
        try:
            send(DELIVER_WEBHOOK, delivery_id, countdown=countdown)
        except BROKER_DOWN as error:
            log.warning("broker unavailable, %d webhook deliveries left for the sweep: %s",
                        len(delivery_ids) - sent, error)
            webhook_outbox.mark_undispatched(delivery_ids[sent:])
            return


def enqueue_store_deletions(deletion_ids):
    """Queue the removal of deleted photos' objects; if the broker is down, the sweep sends it."""
    deletion_ids = list(deletion_ids)
    for start in range(0, len(deletion_ids), DELETION_BATCH):
        try:
            send(DELETE_STORED_OBJECTS, deletion_ids[start:start + DELETION_BATCH])
        except BROKER_DOWN as error:
            left = deletion_ids[start:]
            log.warning("broker unavailable, %d store deletions left for the sweep: %s", len(left), error)
            deletions.mark_undispatched(left)
            return

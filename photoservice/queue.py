"""Celery, bound to the Flask app, and the hand-off of committed work to it.

Tasks are sent by name so the web process never imports the worker code. Every
kind of work (photoservice.work.KINDS) is enqueued with one plain call after its
transaction commits, `enqueue(kind, ids)`; if the broker is down the call returns
and the rows' outbox markers are cleared, so the periodic sweep sends them later:
nothing is lost. Each message carries the id of the request that queued the work
(photoservice.request_ids) in a header: the worker's log lines say it. This module
knows task names and ids, no domain package.
"""
import logging

from celery import Celery, Task
from flask import current_app, has_app_context
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from . import request_ids, work

log = logging.getLogger(__name__)

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


def message_headers(request_id):
    """The message headers that carry `request_id` (none for None)."""
    return {request_ids.MESSAGE_HEADER: request_id} if request_id else None


def send(task_name, *args, countdown=None):
    """Publish one task by name, with the current request id; raises one of BROKER_DOWN
    at once if the broker is down.

    No time limits in the message: the worker's settings give each task its own (a
    process that has the task registered would otherwise stamp its settings' limits).
    """
    current_app.extensions["celery"].send_task(task_name, args=list(args), countdown=countdown,
                                               retry=False, time_limit=None, soft_time_limit=None,
                                               headers=message_headers(request_ids.current()))


def enqueue(kind, ids, countdown=None):
    """Queue committed work of `kind` (a name in work.KINDS) on the rows `ids`: one task
    per id, or per batch of the kind's size, so each shows in Flower. If the broker is
    down, what was not sent is marked undispatched and the sweep sends it.

    The messages carry the current request id (`request_ids.acting_for` sets another)."""
    kind, ids, done = work.KINDS[kind], list(ids), 0
    for subject, covered in work.batches(kind, ids):
        try:
            send(kind.task, subject, countdown=countdown)
        except BROKER_DOWN as error:
            log.warning("broker unavailable, %d %s work left for the sweep: %s",
                        len(ids) - done, kind.name, error)
            work.rows(kind.name).mark_undispatched(ids[done:])
            return
        done += len(covered)


def by_request(ids, stored, default):
    """`ids` grouped by the request id stored with their work (`stored`: {id: request
    id or None}); work no request caused goes with `default`."""
    groups = {}
    for ident in ids:
        groups.setdefault(stored.get(ident) or default, []).append(ident)
    return groups.items()


def send_claimed(kind, ids):
    """Queue the work of `kind` on rows `ids`, already marked handed over (claimed), each
    with the id of the request that queued it (else the current one)."""
    rows = work.rows(kind)
    for request_id, same in by_request(ids, rows.request_ids(ids), request_ids.current()):
        with request_ids.acting_for(request_id):
            enqueue(kind, same)

"""What every line a task writes says, and Celery's own lines in the log's format.

Each task runs with its request id (the message header its sender set: the id of the
request that queued the work, or of the sweep that re-sent it; a generated `sweep-…`
id when there is none), its name and its subject (`photo_id`, `delivery_id`,
`deletion_ids`: photoservice.work.KINDS) bound in photoservice.request_ids, so the log
filter puts them on every line, Celery's "succeeded" and "retry" lines included.

Celery configures no logging of its own (`setup_logging` has a receiver): the app's
handler (photoservice.logs) writes its lines too. With LOG_FORMAT=json the worker's
banner, which no logger prints, is left out, and what its signal handlers say
("worker: Warm shutdown") is written as JSON lines.
"""
import logging
import os
import sys

from celery.apps import worker as celery_worker
from celery.signals import celeryd_init, setup_logging, task_postrun, task_prerun

from photoservice import logs, request_ids, work

SUBJECTS = work.subjects()
_bound = {}


def connect(flask_app):
    """Wire the signals of the worker (or beat) process serving `flask_app`."""
    config = flask_app.config

    @setup_logging.connect(weak=False)
    def _configure(**kwargs):
        logs.configure(config["LOG_FORMAT"], config["LOG_LEVEL"])

    @celeryd_init.connect(weak=False)
    def _quiet(instance=None, **kwargs):
        if config["LOG_FORMAT"] == "json" and instance is not None:
            instance.quiet = True
            celery_worker.safe_say = say_as_json


def say_as_json(message, f=sys.__stderr__):
    """Celery's `safe_say` (what its signal handlers print) as one JSON line, written as
    safe_say writes: straight to the file descriptor, no logging lock taken."""
    record = logging.makeLogRecord({"name": celery_worker.__name__, "levelno": logging.INFO,
                                    "levelname": "INFO", "msg": message})
    try:
        os.write(f.fileno(), (logs.formatter("json").format(record) + "\n").encode())
    except OSError:  # as safe_say: a lost line never stops a shutdown
        pass


def sent_request_id(request):
    """The request id a task's message carries, if any."""
    return (request.headers or {}).get(request_ids.MESSAGE_HEADER) or \
        getattr(request, request_ids.MESSAGE_HEADER, None)


@task_prerun.connect
def _bind(task_id=None, task=None, args=(), **kwargs):
    fields = {"request_id": sent_request_id(task.request) or request_ids.new_id(request_ids.SWEEP),
              "task": task.name}
    subject = SUBJECTS.get(task.name)
    if subject and args:
        fields[subject] = args[0]
    _bound[task_id] = request_ids.bind(**fields)


@task_postrun.connect
def _unbind(task_id=None, **kwargs):
    token = _bound.pop(task_id, None)
    if token is not None:
        request_ids.unbind(token)

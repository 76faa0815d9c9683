"""The log's one format for the web, the workers and beat: LOG_FORMAT and LOG_LEVEL.

`text` (the default) is a readable line for `make dev`; `json` makes every line one
JSON object for a log drain (Papertrail, Datadog, Loki), written by python-json-logger.
Either way each line carries what it is about (photoservice.request_ids: the request
id; in a task, the task and its photo or delivery), and no secret: messages and
exception texts are redacted (photoservice.redaction) before they are written, since a
botocore error quotes a presigned URL and a geocoder's the roof's coordinates.

One handler on the root logger, configured by the app factory; Celery's and
gunicorn's own lines go through the same filter and formatter (workers/worker.py,
gunicorn.conf.py).
"""
import logging
import sys

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from . import request_ids
from .redaction import redact

#: Context fields a text line shows after its message, when the line has them.
SHOWN = ("request_id", "task", "photo_id", "delivery_id", "deletion_ids", "user_id", "company_id")
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Celery's structured copy of its message (a task's arguments and exception): the
#: message says it already.
NOT_SHOWN = ("data",)
#: The web's line per request: a method, a route and numbers, nothing to redact (a path
#: no route matched is redacted where it is written: photoservice/web/request_log.py).
REQUEST_LINE = "photoservice.requests"


class ContextFilter(logging.Filter):
    """Puts the current request/task context on each record, and redacts its message."""

    def filter(self, record):
        for field, value in request_ids.context().items():
            if field not in record.__dict__:
                setattr(record, field, value)
        if record.name == REQUEST_LINE:  # on every request's path: spared the regexes
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: logging reports it when formatting
            return True
        record.msg, record.args = redact(message), ()
        return True


class TextFormatter(logging.Formatter):
    """A readable line: time, level, logger, message, then `field=value` of its context."""

    def format(self, record):
        line = super().format(record)
        context = "".join(f" {field}={record.__dict__[field]}" for field in SHOWN
                          if record.__dict__.get(field) is not None)
        if not context:
            return line
        head, newline, rest = line.partition("\n")  # a traceback stays below the line
        return head + context + newline + rest

    def formatException(self, ei):
        return redact(super().formatException(ei))


class JsonLineFormatter(JsonFormatter):
    """One JSON object a line: timestamp, level, logger, message and the record's fields."""

    def __init__(self):
        super().__init__("%(levelname)s %(name)s %(message)s", timestamp=True,
                         rename_fields={"levelname": "level", "name": "logger"},
                         reserved_attrs=[*RESERVED_ATTRS, "taskName", *NOT_SHOWN])

    def formatException(self, ei):
        return redact(super().formatException(ei))


def formatter(log_format):
    return JsonLineFormatter() if log_format == "json" else TextFormatter(TEXT)


def prepare(handler, log_format):
    """Give `handler` the log's format and filter (gunicorn's own handlers take them too)."""
    handler.setFormatter(formatter(log_format))
    for old in [f for f in handler.filters if isinstance(f, ContextFilter)]:
        handler.removeFilter(old)
    handler.addFilter(ContextFilter())
    return handler


def configure(log_format, level):
    """Send every logger's lines to stderr in `log_format` ("text" or "json") from `level`
    up. Repeatable: the handler of an earlier call is replaced."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "photoservice", False)]:
        root.removeHandler(handler)
    handler = prepare(logging.StreamHandler(sys.stderr), log_format)
    handler.photoservice = True
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # Python's warnings (Celery's about root, say) as lines too

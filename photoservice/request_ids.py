"""Request ids: what ties a web request to every line it, and the work it queued, writes.

The router's `X-Request-ID` (Heroku's is a UUID) is kept when it is 1-200 characters
of `A-Z a-z 0-9 . _ : -`, anything else is replaced by a generated id: the id lands
in log lines, headers and columns, so it must be short and carry nothing that could
break a line or forge a field. Work with no request behind it (what the periodic
sweep finds) gets a generated `sweep-…` id.

What a line is about (the request id; in a task, the task's name and its photo or
delivery) sits in one context variable, bound around a request or a task; the log
filter (photoservice.logs) copies it onto every record written meanwhile.
"""
import re
import uuid
from contextlib import contextmanager
from contextvars import ContextVar

#: The HTTP header, on requests, responses and webhook deliveries.
HEADER = "X-Request-ID"
#: The Celery message header a task's request id travels in.
MESSAGE_HEADER = "x_request_id"
VALID = re.compile(r"[A-Za-z0-9._:-]{1,200}")
#: Prefix of the ids of work no request caused.
SWEEP = "sweep-"

_context = ContextVar("log_context", default={})


def accepted(incoming):
    """The incoming id if it is valid, else a generated one."""
    if incoming and VALID.fullmatch(incoming):
        return incoming
    return new_id()


def new_id(prefix=""):
    """A fresh id: a UUID, as Heroku's router makes them."""
    return prefix + str(uuid.uuid4())


def current():
    """The request id of the request or task being served, or None outside both."""
    return _context.get().get("request_id")


def context():
    """The fields every log line written now carries (request_id; task, photo_id ...)."""
    return _context.get()


def bind(**fields):
    """Make `fields` the current context; returns the token `unbind` takes."""
    return _context.set(fields)


def unbind(token):
    _context.reset(token)


@contextmanager
def acting_for(request_id):
    """Within: the current request id is `request_id` (work sent on behalf of another
    request: `photo.processed` goes out with the finalize's id)."""
    token = bind(**{**context(), "request_id": request_id})
    try:
        yield
    finally:
        unbind(token)

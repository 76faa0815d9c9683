"""Request ids and the one log line per request (it replaces gunicorn's access line).

Every request gets its id first thing (the router's `X-Request-ID` when valid, else a
generated one: photoservice.request_ids), every response echoes it, errors included,
and once the response is ready one line says what was asked and answered: `method`,
`path` (the route's rule, never the query string, which may carry a signature),
`status`, `duration_ms`, `request_id`, `user_id`, `company_id`.

This sits on every request's path: two hooks, a regex match and one log call, whose
record is only formatted when its level is on.
"""
import logging
from time import perf_counter

from flask import g, request

from .. import request_ids
from ..logs import REQUEST_LINE
from ..redaction import redact

log = logging.getLogger(REQUEST_LINE)


def register_request_ids(app):
    """Install the hooks: the id before any other hook (a 401 or 429 refused by one
    still echoes it), the line after every response, the context reset at teardown."""
    app.before_request_funcs.setdefault(None, []).insert(0, start)
    app.after_request(finish)
    app.teardown_request(unbind)


def start():
    g.request_started = perf_counter()
    g.request_id = request_id = request_ids.accepted(request.headers.get(request_ids.HEADER))
    g.request_context = request_ids.bind(request_id=request_id)


def finish(response):
    request_id = g.get("request_id")
    if request_id is None:  # no before_request ran (the app answered before dispatching)
        start()
        request_id = g.request_id
    response.headers[request_ids.HEADER] = request_id
    if log.isEnabledFor(logging.INFO):
        caller, rule = g.get("caller"), request.url_rule
        path = rule.rule if rule is not None else unmatched(request.path)
        duration_ms = round((perf_counter() - g.request_started) * 1000, 1)
        log.info("%s %s %s %.1f ms", request.method, path, response.status_code, duration_ms,
                 extra={"method": request.method, "path": path, "status": response.status_code,
                        "duration_ms": duration_ms, "request_id": request_id,
                        "user_id": caller.user_id if caller else None,
                        "company_id": caller.company_id if caller else None})
    return response


def unmatched(path):
    """A path no route matched (a 404), as the client sent it: escaped, so that no line
    break or control character of its own can forge a line, redacted, cut at 200 characters."""
    return redact(path.encode("unicode_escape").decode("ascii"))[:200]


def unbind(error=None):
    token = g.pop("request_context", None)
    if token is not None:
        request_ids.unbind(token)

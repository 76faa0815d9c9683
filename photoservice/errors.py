"""Domain exceptions and the one JSON error shape every error is sent in.

Every error body is `{"code", "status", "message", "errors"?}`; `errors` maps
each offending field name to a list of messages.
"""
import logging
from http import HTTPStatus

import marshmallow as ma
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

# What a 503 tells clients to wait before trying again.
RETRY_AFTER_SECONDS = 5


class ServiceError(Exception):
    """An expected failure a client can act on; carries its HTTP status."""

    status_code = 400

    def __init__(self, message, errors=None, headers=None):
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.headers = headers or {}


class InvalidInput(ServiceError):
    status_code = 400


class NotFound(ServiceError):
    status_code = 404


class Conflict(ServiceError):
    status_code = 409


class DependencyUnavailable(ServiceError):
    """A backing service (store, database, broker) is down: retry later."""

    status_code = 503

    def __init__(self, message, retry_after=RETRY_AFTER_SECONDS):
        super().__init__(message, headers={"Retry-After": str(retry_after)})


class ErrorSchema(ma.Schema):
    """The body of every error response."""

    code = ma.fields.Integer(required=True, metadata={"description": "HTTP status code"})
    status = ma.fields.String(required=True, metadata={"description": "HTTP status name"})
    message = ma.fields.String(required=True, metadata={"description": "What went wrong"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Messages per offending field name"},
    )


def error_body(code, message, errors=None):
    body = {"code": code, "status": HTTPStatus(code).phrase, "message": message}
    if errors:
        body["errors"] = errors
    return body


def flatten_field_errors(messages):
    """Turn webargs' `{location: {field: [msg]}}` into `{field: [msg]}`."""
    flat = {}
    for location, value in (messages or {}).items():
        if isinstance(value, dict):
            for field, field_messages in value.items():
                flat[field] = _as_strings(field_messages)
        else:
            flat[location] = _as_strings(value)
    return flat


def _as_strings(messages):
    # Nested schemas report `{index_or_key: [msg]}`; keep the path in the text.
    if isinstance(messages, dict):
        return [f"{key}: {msg}" for key, value in messages.items() for msg in _as_strings(value)]
    if isinstance(messages, (list, tuple)):
        return [m for item in messages for m in _as_strings(item)]
    return [str(messages)]


def handle_http_exception(error):
    """Werkzeug/webargs HTTP errors in the common shape."""
    data = getattr(error, "data", None) or {}
    errors = data.get("errors")
    if errors is None and "messages" in data:
        errors = flatten_field_errors(data["messages"])
    message = data.get("message")
    if message is None:
        message = invalid_request_summary(errors) if errors else (error.description or error.name)
    headers = dict(data.get("headers") or {})
    if error.code == 405 and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return error_body(error.code, message, errors), error.code, headers


def handle_service_error(error):
    return error_body(error.status_code, error.message, error.errors), error.status_code, error.headers


def handle_unexpected(error):
    """Anything unplanned: log it whole, tell the client nothing internal."""
    log.exception("unhandled error")
    return error_body(500, "Internal server error."), 500


def invalid_request_summary(errors):
    """The message of a 400 that names its fields: `Invalid request: job, name.`"""
    return "Invalid request: " + ", ".join(sorted(errors)) + "."


def register_error_handlers(app):
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ServiceError, handle_service_error)
    app.register_error_handler(Exception, handle_unexpected)

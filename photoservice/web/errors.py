"""The one JSON error shape every error response is sent in, and its handlers.

Every error body is `{"code", "status", "message", "errors"?}`; `errors` maps
each offending field name to a list of messages. Services raise domain
exceptions (`photoservice.errors`); only this module builds the body.
"""
import logging
from http import HTTPStatus

import marshmallow as ma
from werkzeug.exceptions import HTTPException

from ..database import DATABASE_UNAVAILABLE
from ..errors import DependencyUnavailable, ServiceError, invalid_request_summary

log = logging.getLogger(__name__)


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
    missing_parts = ma.fields.List(ma.fields.Integer(), metadata={
        "description": "Finalize of a resumable upload: the parts the store has not received."})
    wrong_size_parts = ma.fields.List(ma.fields.Integer(), metadata={
        "description": "Finalize of a resumable upload: the parts received with another size "
                       "than their URL's `size`."})


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
    body = dict(error_body(error.status_code, error.message, error.errors), **error.details)
    return body, error.status_code, error.headers


def handle_database_unavailable(error):
    """A database that cannot be reached is a 503 with Retry-After, never a stack trace."""
    log.error("database unavailable: %s", error.__class__.__name__, exc_info=error)
    return handle_service_error(DependencyUnavailable("The database is unavailable; try again shortly."))


def handle_unexpected(error):
    """Anything unplanned: log it whole, tell the client nothing internal."""
    log.exception("unhandled error")
    return error_body(500, "Internal server error."), 500


def register_error_handlers(app):
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ServiceError, handle_service_error)
    for error_class in DATABASE_UNAVAILABLE:
        app.register_error_handler(error_class, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)

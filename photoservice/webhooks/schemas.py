"""Request and response bodies of the webhooks API."""
import re
from urllib.parse import urlsplit

import marshmallow as ma
from marshmallow import fields, validate

from ..web.fields import WHITESPACE, Text, sent_in_full
from .models import EVENT_TYPES, DeliveryStatus

URL_MAX_LENGTH = 2048
# What a receiver's URL may look like, as Python and ECMA patterns both read it:
# http(s), a host without user info, then anything but blanks and control characters.
_URL_CHAR = rf"[^\u0000-\u001f\u007f{WHITESPACE}]"
URL_PATTERN = rf"^https?://[^\u0000-\u001f\u007f{WHITESPACE}/?#@\\]+([/?#]{_URL_CHAR}*)?$"


def url_problem(url):
    """Why `url` cannot be a receiver's URL, or None (https or not is the service's rule)."""
    if not re.match(URL_PATTERN, url):
        return "Must be an http(s) URL with a host and no user info, blanks or control characters."
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a malformed or out-of-range port)
    except ValueError as error:
        return f"Not a valid URL: {error}."
    if not parts.hostname:
        return "Must name a host."
    return None


def _validate_url(url):
    problem = url_problem(url)
    if problem:
        raise ma.ValidationError(problem)


def _url(**kwargs):
    return Text(validate=[validate.Length(1, URL_MAX_LENGTH), _validate_url], metadata={
        "pattern": URL_PATTERN, "description": "Where events are POSTed: https, a public host.",
        "example": "https://crm.example.com/hooks/photos"}, **kwargs)


def _events(**kwargs):
    return fields.List(fields.String(validate=validate.OneOf(EVENT_TYPES)),
                       validate=validate.Length(1, len(EVENT_TYPES)),
                       metadata={"description": "The events to send: " + ", ".join(EVENT_TYPES) + "."},
                       **kwargs)


def _description(**kwargs):
    return Text(allow_none=True, validate=validate.Length(max=500), **kwargs)


class _DistinctEvents:
    @ma.post_load
    def distinct_events(self, data, **kwargs):
        if "events" in data:
            data["events"] = list(dict.fromkeys(data["events"]))
        return data


class WebhookEndpointCreateSchema(_DistinctEvents, ma.Schema):
    url = _url(required=True)
    events = _events(required=True)
    description = _description()


class WebhookEndpointUpdateSchema(_DistinctEvents, ma.Schema):
    url = _url()
    events = _events()
    description = _description()
    enabled = fields.Boolean(metadata={
        "description": "false stops deliveries (pending ones fail); true resumes them and "
                       "resets consecutive_failures."})


@sent_in_full
class WebhookEndpointSchema(ma.Schema):
    id = fields.Integer()
    url = fields.String()
    events = fields.List(fields.String(validate=validate.OneOf(EVENT_TYPES)))
    description = fields.String(allow_none=True)
    enabled = fields.Boolean()
    disabled_reason = fields.String(allow_none=True, metadata={
        "description": "Why deliveries stopped: by an owner, a 410 Gone, or too many failures."})
    disabled_at = fields.AwareDateTime(allow_none=True)
    consecutive_failures = fields.Integer(metadata={
        "description": "Failed attempts in a row; WEBHOOK_DISABLE_AFTER of them disable it."})
    previous_secret_expires_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "Until then the secret before the last rotation signs too."})
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


@sent_in_full
class WebhookEndpointWithSecretSchema(WebhookEndpointSchema):
    secret = fields.String(metadata={
        "description": "The signing secret (`whsec_…`): shown only here, keep it safe.",
        "example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})


@sent_in_full
class WebhookDeliverySchema(ma.Schema):
    id = fields.Integer()
    endpoint = fields.Integer(attribute="endpoint_id")
    event = fields.String(attribute="event_type", validate=validate.OneOf(EVENT_TYPES))
    message_id = fields.String(metadata={
        "description": "The webhook-id header: the same on every attempt and redelivery."})
    status = fields.String(validate=validate.OneOf([s.value for s in DeliveryStatus]))
    attempts = fields.Integer()
    last_attempt_at = fields.AwareDateTime(allow_none=True)
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True, metadata={
        "description": "Why the last attempt failed, a short stable sentence: `Timed out after "
                       "15 s`, `Could not connect`, `TLS handshake failed`, `HTTP 500`, ..."})
    last_response = fields.String(allow_none=True, metadata={
        "description": "The start (at most 1 KB) of the receiver's last answer."})
    next_attempt_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "When the next attempt is due; null once delivered or failed."})
    delivered_at = fields.AwareDateTime(allow_none=True)
    payload = fields.Dict(metadata={"description": "The body sent: {type, timestamp, data}."})
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class DeliveryListQuerySchema(ma.Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 1_000_000))
    page_size = fields.Integer(load_default=10, validate=validate.Range(1, 100))


class DeliveryPageSchema(ma.Schema):
    count = fields.Integer(required=True)
    next = fields.String(allow_none=True, required=True)
    previous = fields.String(allow_none=True, required=True)
    results = fields.List(fields.Nested(WebhookDeliverySchema), required=True)

"""One attempt at a webhook delivery: claim it, sign it, POST it, record the outcome.

Called by the Celery task `workers.tasks.deliver_webhook` (queue `webhooks`) and
directly by tests. The row holds the whole schedule, so a lost message, a dead
worker or a Redis restart loses nothing: the sweep sends whatever is due.

Outcomes: 2xx succeeds (and resets the endpoint's failure count); 410 fails the
delivery and disables the endpoint; anything else (another status, a redirect,
a timeout, a refused address) is a failed attempt, retried on
WEBHOOK_RETRY_SCHEDULE (±10 %, never sooner than a Retry-After up to a day)
until the schedule runs out, and counted against the endpoint, which
WEBHOOK_DISABLE_AFTER failures in a row disable.

`last_error` is one of a few stable short sentences ("Timed out after 15 s",
"Could not connect", "HTTP 500", ...), never an exception's own text, which may
quote a receiver's URL with its query string: that goes to the log, redacted.
"""
import json
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from cryptography.fernet import InvalidToken
from flask import current_app
from sqlalchemy import update

from .. import request_ids
from ..database import utcnow
from ..extensions import db
from ..redaction import redacted_error
from . import transport
from .endpoints import disable, signing_secrets
from .failures import root_cause
from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from .outbox import PENDING
from .signing import signed_headers

#: How long past its timeout an attempt may run before the sweep sends it again.
LEASE_MARGIN = 10
#: Retries due within this many seconds are queued at once with a countdown; later
#: ones are sent by the sweep when due.
COUNTDOWN_MAX = 60
RETRY_AFTER_MAX = 24 * 3600
JITTER = 0.1
#: When no key of WEBHOOK_SECRET_KEYS opens the endpoint's secret (a key was removed
#: too soon): retried, so putting the key back mends it.
SECRET_UNREADABLE = "The signing secret cannot be decrypted with WEBHOOK_SECRET_KEYS"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claim:
    """An attempt this worker holds: the row's state when it was claimed."""

    delivery_id: int
    claimed_at: datetime
    endpoint_id: int
    message_id: str
    payload: dict
    attempts: int
    #: The id of the request whose change the event announces: sent as X-Request-ID.
    request_id: str | None


def attempt(delivery_id):
    """Make the due attempt of one delivery.

    Returns the seconds until the next attempt when it should be queued now with a
    countdown; None when the delivery is done, failed, left to the sweep or not due.
    """
    claim = _claim(delivery_id)
    endpoint = db.session.get(WebhookEndpoint, claim.endpoint_id) if claim else None
    db.session.commit()  # the claim holds; no transaction stays open while the receiver answers
    if claim is None:
        return None
    if endpoint is None or not endpoint.enabled:
        reason = endpoint.disabled_reason if endpoint else "deleted"
        return _finish(claim, status=DeliveryStatus.FAILED.value, last_error=f"Endpoint disabled: {reason}")
    if claim.attempts > len(current_app.config["WEBHOOK_RETRY_SCHEDULE"]) + 1:  # lost to crashes
        return _finish(claim, status=DeliveryStatus.FAILED.value,
                       last_error=f"Gave up after {claim.attempts - 1} attempts.")
    config = current_app.config
    body = json.dumps(claim.payload, separators=(",", ":"))
    try:
        headers = signed_headers(signing_secrets(endpoint, utcnow()), claim.message_id, body)
        headers[request_ids.HEADER] = claim.request_id or request_ids.current() or request_ids.new_id()
    except InvalidToken:
        log.error("delivery %s: %s (endpoint %s)", claim.delivery_id, SECRET_UNREADABLE, endpoint.id)
        return _failed(claim, SECRET_UNREADABLE)
    try:
        reply = transport.post(endpoint.url, body.encode(), headers, config["WEBHOOK_TIMEOUT"],
                               config["WEBHOOK_ALLOW_PRIVATE"])
    except transport.Unreachable as error:
        log.info("delivery %s, attempt %s: %s (%s)", claim.delivery_id, claim.attempts, error,
                 redacted_error(root_cause(error)))
        return _failed(claim, str(error))
    answered = {"last_status_code": reply.status_code, "last_response": reply.body_prefix}
    if 200 <= reply.status_code < 300:
        db.session.execute(update(WebhookEndpoint).where(
            WebhookEndpoint.id == claim.endpoint_id, WebhookEndpoint.consecutive_failures != 0)
            .values(consecutive_failures=0))
        return _finish(claim, status=DeliveryStatus.SUCCEEDED.value, delivered_at=utcnow(),
                       last_error=None, **answered)
    if reply.status_code == 410:
        disable(claim.endpoint_id, "The receiver answered 410 Gone.")
        return _finish(claim, status=DeliveryStatus.FAILED.value, last_error="HTTP 410 Gone", **answered)
    redirect = " (redirects are not followed)" if 300 <= reply.status_code < 400 else ""
    return _failed(claim, f"HTTP {reply.status_code}{redirect}", reply.retry_after, **answered)


def _claim(delivery_id):
    """Take the delivery's due attempt, leasing it for the length of one attempt."""
    now = utcnow()
    lease = timedelta(seconds=current_app.config["WEBHOOK_TIMEOUT"] + LEASE_MARGIN)
    row = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, PENDING,
               WebhookDelivery.next_attempt_at <= now + timedelta(seconds=1))
        .values(attempts=WebhookDelivery.attempts + 1, last_attempt_at=now, next_attempt_at=now + lease)
        .returning(WebhookDelivery.endpoint_id, WebhookDelivery.message_id, WebhookDelivery.payload,
                   WebhookDelivery.attempts, WebhookDelivery.request_id)
        .execution_options(synchronize_session=False)).one_or_none()
    return None if row is None else Claim(delivery_id, now, *row)


def _finish(claim, **values):
    """Record the attempt's outcome (unless the delivery was redelivered meanwhile), with
    whatever else the session holds; returns None: no countdown."""
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == claim.delivery_id, WebhookDelivery.last_attempt_at == claim.claimed_at)
        .values({"next_attempt_at": None, **values})
        .execution_options(synchronize_session=False))
    db.session.commit()


def _failed(claim, error, retry_after=None, **answered):
    """A failed attempt: schedule the next one (or give up), count it against the endpoint."""
    schedule = current_app.config["WEBHOOK_RETRY_SCHEDULE"]
    values = {"last_error": error[:2000], "last_status_code": None, "last_response": None, **answered}
    wait = None
    if claim.attempts > len(schedule):
        values["status"] = DeliveryStatus.FAILED.value
    else:
        wait = retry_wait(schedule[claim.attempts - 1], retry_after)
        values["next_attempt_at"] = due = utcnow() + timedelta(seconds=wait)
        if wait <= COUNTDOWN_MAX:
            values["dispatched_at"] = due  # the task queues it now, with a countdown
    failures = db.session.execute(
        update(WebhookEndpoint).where(WebhookEndpoint.id == claim.endpoint_id)
        .values(consecutive_failures=WebhookEndpoint.consecutive_failures + 1)
        .returning(WebhookEndpoint.consecutive_failures)).scalar_one_or_none()
    if failures is not None and failures >= current_app.config["WEBHOOK_DISABLE_AFTER"]:
        values["status"], wait = DeliveryStatus.FAILED.value, None
        disable(claim.endpoint_id, f"{failures} failed attempts in a row.")
    _finish(claim, **values)
    return wait if wait is not None and wait <= COUNTDOWN_MAX else None


def retry_wait(scheduled, retry_after=None):
    """Seconds until the next attempt: the schedule's, jittered, or the receiver's
    Retry-After if that is later (at most a day)."""
    wait = scheduled * random.uniform(1 - JITTER, 1 + JITTER)
    asked = retry_after_seconds(retry_after)
    return max(wait, min(asked, RETRY_AFTER_MAX)) if asked is not None else wait


def retry_after_seconds(value):
    """A Retry-After header (seconds or an HTTP date) in seconds from now, or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)

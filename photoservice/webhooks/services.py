"""Webhook endpoints as a company's owners manage them, and their delivery logs.

Each returns rows as mappings of their stored columns; the routes hand an
endpoint to `presenter`, which leaves its sealed secrets out.
"""
from flask import current_app
from sqlalchemy import func, select

from .. import queue
from ..accounts.models import Role
from ..database import MAX_ID, columns_of, utcnow
from ..errors import Conflict, InvalidInput, NotAllowed, NotFound
from ..extensions import db
from . import ssrf
from .endpoints import disable, enable, give_secret, rotate_secret
from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

#: Endpoints one company may register.
MAX_ENDPOINTS = 20


def check_manager(caller):
    """Only owners manage webhooks: the secrets sign what integrators trust."""
    if caller.role is not Role.OWNER:
        raise NotAllowed("Only the company's owners manage webhooks.")


def check_receiver(url):
    """The URL may receive webhooks (https, a public host), else a 400 on `url`."""
    try:
        ssrf.check_url(url, current_app.config["WEBHOOK_ALLOW_PRIVATE"],
                       current_app.config["WEBHOOK_TIMEOUT"])
    except ssrf.Refused as error:
        raise InvalidInput(errors={"url": [f"Refused: {error}. Webhooks go to public https "
                                           "endpoints only."]}) from None


def create_endpoint(caller, data):
    """Register an endpoint; returns (endpoint, its secret in clear, to show in this response only)."""
    check_manager(caller)
    check_receiver(data["url"])
    count = db.session.scalar(select(func.count()).select_from(WebhookEndpoint)
                              .where(WebhookEndpoint.company_id == caller.company_id))
    if count >= MAX_ENDPOINTS:
        raise Conflict(f"A company may have at most {MAX_ENDPOINTS} webhook endpoints.")
    endpoint = WebhookEndpoint(company_id=caller.company_id, enabled=True, consecutive_failures=0,
                               **data)
    secret = give_secret(endpoint)
    db.session.add(endpoint)
    db.session.commit()
    return columns_of(endpoint), secret


def list_endpoints(caller):
    check_manager(caller)
    return [columns_of(endpoint) for endpoint in db.session.execute(select(WebhookEndpoint).where(
        WebhookEndpoint.company_id == caller.company_id).order_by(WebhookEndpoint.id)).scalars()]


def get_endpoint(caller, endpoint_id):
    """One of the caller's company's endpoints."""
    return columns_of(_owned(caller, endpoint_id))


def _owned(caller, endpoint_id):
    """The ORM row of one of the caller's company's endpoints; another company's is missing (404)."""
    check_manager(caller)
    endpoint = db.session.get(WebhookEndpoint, endpoint_id) if endpoint_id <= MAX_ID else None
    if endpoint is None or endpoint.company_id != caller.company_id:
        raise NotFound("Webhook endpoint not found.")
    return endpoint


def update_endpoint(caller, endpoint_id, changes):
    """Change url, events, description; `enabled` switches deliveries off or back on."""
    endpoint = _owned(caller, endpoint_id)
    if "url" in changes:
        check_receiver(changes["url"])
    enabled = changes.pop("enabled", None)
    for name, value in changes.items():
        setattr(endpoint, name, value)
    if enabled is True and not endpoint.enabled:
        enable(endpoint)
    elif enabled is False and endpoint.enabled:
        db.session.flush()
        disable(endpoint.id, "Disabled by an owner.")
    db.session.commit()
    return columns_of(endpoint)


def delete_endpoint(caller, endpoint_id):
    """Remove an endpoint and its delivery log."""
    db.session.delete(_owned(caller, endpoint_id))
    db.session.commit()


def rotate_endpoint_secret(caller, endpoint_id):
    """A new secret, shown once: (endpoint, the secret in clear); the old one keeps
    signing beside it for 24 hours."""
    endpoint = _owned(caller, endpoint_id)
    secret = rotate_secret(endpoint)
    db.session.commit()
    return columns_of(endpoint), secret


def list_deliveries(caller, endpoint_id, page, page_size):
    """(count, deliveries on the page) of one endpoint, newest first."""
    endpoint = _owned(caller, endpoint_id)
    mine = WebhookDelivery.endpoint_id == endpoint.id
    count = db.session.scalar(select(func.count()).select_from(WebhookDelivery).where(mine))
    deliveries = db.session.execute(
        select(WebhookDelivery).where(mine)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .limit(page_size).offset((page - 1) * page_size)).scalars()
    return count, [columns_of(delivery) for delivery in deliveries]


def redeliver(caller, endpoint_id, delivery_id):
    """Send a delivery's message again now, same `webhook-id`, with a fresh retry schedule."""
    endpoint = _owned(caller, endpoint_id)
    delivery = db.session.execute(select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id)
    ).scalar_one_or_none() if delivery_id <= MAX_ID else None
    if delivery is None:
        raise NotFound("Delivery not found.")
    if not endpoint.enabled:
        raise Conflict("The endpoint is disabled: enable it (PATCH with enabled true), then redeliver.")
    now = utcnow()
    delivery.status, delivery.attempts = DeliveryStatus.PENDING.value, 0
    # A fresh claim: an attempt still running records nothing over this one.
    delivery.next_attempt_at = delivery.dispatched_at = now
    delivery.last_attempt_at = delivery.delivered_at = None
    db.session.commit()
    queue.enqueue("delivery", [delivery.id])
    return columns_of(delivery)

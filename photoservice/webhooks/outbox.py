"""Deliveries' outbox markers, and the deliveries the sweep hands to the broker.

`dispatched_at` says when the due attempt of a delivery was handed to the
broker: set in the transaction that makes it due (or to the due time itself
when a retry is queued with a countdown), cleared when the broker refuses, and
renewed by the sweep. A pending delivery is sent by the sweep when it is due and
was never handed over for that attempt, or was handed over so long ago that the
message must have been lost (PROCESSING_REDISPATCH_AFTER).
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update

from .. import work
from ..database import utcnow
from ..extensions import db
from .models import DeliveryStatus, WebhookDelivery

PENDING = WebhookDelivery.status == DeliveryStatus.PENDING.value
#: Old deliveries removed a statement, and statements a sweep, at most: a sweep stays
#: short however large the backlog (a first run, a lowered retention).
RETENTION_BATCH, RETENTION_STATEMENTS = 1000, 5


def mark_undispatched(delivery_ids):
    """The broker refused these deliveries: leave them for the next sweep."""
    if delivery_ids:
        db.session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(delivery_ids))
                           .values(dispatched_at=None))
        db.session.commit()


def mark_dispatched(delivery_ids):
    """The sweep handed these deliveries to the broker just now."""
    if delivery_ids:
        db.session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(delivery_ids))
                           .values(dispatched_at=utcnow()))
        db.session.commit()


def due_deliveries(limit=500):
    """Ids of pending deliveries whose attempt is due and not (or no longer) with the broker."""
    now = utcnow()
    lost = now - timedelta(seconds=current_app.config["PROCESSING_REDISPATCH_AFTER"])
    ids = db.session.execute(
        select(WebhookDelivery.id)
        .where(PENDING, WebhookDelivery.next_attempt_at <= now,
               or_(WebhookDelivery.dispatched_at.is_(None),
                   WebhookDelivery.dispatched_at < WebhookDelivery.next_attempt_at,
                   WebhookDelivery.dispatched_at < lost))
        .order_by(WebhookDelivery.next_attempt_at).limit(limit)
    ).scalars().all()
    db.session.commit()
    return ids


def request_ids(delivery_ids):
    """{delivery id: the id of the request whose change it announces}."""
    if not delivery_ids:
        return {}
    return dict(db.session.execute(select(WebhookDelivery.id, WebhookDelivery.request_id)
                                   .where(WebhookDelivery.id.in_(delivery_ids))).all())


def note_stopped_attempt(delivery_id, since, reason):
    """An attempt begun at or after `since` was stopped by the task's time limit.

    Its claim already counted it and leased the row for one attempt's length; the lease
    is over, so the sweep sends the delivery again. This records why it failed.
    """
    db.session.rollback()
    db.session.execute(update(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, PENDING, WebhookDelivery.last_attempt_at >= since)
        .values(last_error=reason, last_status_code=None, last_response=None))
    db.session.commit()


def delete_old_deliveries(batch=RETENTION_BATCH, statements=RETENTION_STATEMENTS):
    """Delete finished deliveries created over WEBHOOK_DELIVERY_RETENTION seconds ago
    (they hold photos' payloads: GPS, addresses), oldest first; returns how many.

    A delivery still being tried is kept until it ends, whatever its age.
    """
    cutoff = utcnow() - timedelta(seconds=current_app.config["WEBHOOK_DELIVERY_RETENTION"])
    deleted = 0
    for _ in range(statements):
        oldest = (select(WebhookDelivery.id)
                  .where(WebhookDelivery.created_at < cutoff, ~PENDING)
                  .order_by(WebhookDelivery.created_at).limit(batch))
        count = db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(oldest))
                                   .execution_options(synchronize_session=False)).rowcount
        db.session.commit()
        deleted += count
        if count < batch:
            break
    return deleted


work.register("delivery", due=due_deliveries, mark_dispatched=mark_dispatched,
              mark_undispatched=mark_undispatched, request_ids=request_ids)

"""Events: one delivery row per subscribed endpoint, written in the caller's
transaction (the outbox), queued once it commits.

    deliveries = events.emit(company_id, EventType.PHOTO_UPDATED, data)
    db.session.commit()
    queue.enqueue("delivery", deliveries)

An event's data is a plain payload its owner builds (photos.events: the photo as
stored); this package knows no other resource.
"""
from datetime import datetime, timezone

from sqlalchemy import select

from .. import request_ids
from ..database import utcnow
from ..extensions import db
from .models import DeliveryStatus, EventType, WebhookDelivery, WebhookEndpoint
from .signing import new_message_id


def subscribed_endpoints(company_id, event_type):
    """Ids of the company's enabled endpoints that want `event_type`."""
    return db.session.execute(select(WebhookEndpoint.id).where(
        WebhookEndpoint.company_id == company_id, WebhookEndpoint.enabled,
        WebhookEndpoint.events.contains([event_type]))).scalars().all()


def event_body(event_type, data):
    """`{"type", "timestamp", "data"}`."""
    return {"type": event_type, "timestamp": datetime.now(timezone.utc).isoformat(), "data": data}


def emit(company_id, event_type, data, request_id=None):
    """Write the deliveries of one event in the current transaction; returns their ids.

    Each carries `request_id`, the id of the request whose change the event announces
    (by default the current one's), and sends it as X-Request-ID.

    `data()` builds the event's plain payload: called only when an endpoint wants the
    event, after a flush (so the subject's own timestamps are as they will be stored).
    Nothing is sent yet: commit, then `queue.enqueue("delivery", ids)`.
    """
    event_type = EventType(event_type).value
    endpoint_ids = subscribed_endpoints(company_id, event_type)
    if not endpoint_ids:
        return []
    db.session.flush()
    payload, message_id, now = event_body(event_type, data()), new_message_id(), utcnow()
    rows = [{"company_id": company_id, "endpoint_id": endpoint_id, "event_type": event_type,
             "message_id": message_id, "payload": payload, "status": DeliveryStatus.PENDING.value,
             "attempts": 0, "next_attempt_at": now, "dispatched_at": now, "created_at": now,
             "updated_at": now, "request_id": request_id or request_ids.current()}
            for endpoint_id in endpoint_ids]
    return db.session.scalars(db.insert(WebhookDelivery).returning(WebhookDelivery.id), rows).all()

"""Photo events: one delivery row per subscribed endpoint, written in the caller's
transaction (the outbox), queued once it commits.

    deliveries = events.emit(photo.company_id, EventType.PHOTO_UPDATED, photo)
    db.session.commit()
    queue.enqueue_deliveries(deliveries)

`photo.processed` is announced here too, exactly once, by whichever of a photo's
two kinds of work (metadata, media) finishes last, or by the sweep if a worker
died in between.
"""
from datetime import datetime, timezone

from sqlalchemy import select, update

from .. import queue
from ..database import utcnow
from ..extensions import db
from ..photos.models import WORK_DONE, Photo
from ..photos.representation import photo_record
from .models import DeliveryStatus, EventType, WebhookDelivery, WebhookEndpoint
from .signing import new_message_id


def subscribed_endpoints(company_id, event_type):
    """Ids of the company's enabled endpoints that want `event_type`."""
    return db.session.execute(select(WebhookEndpoint.id).where(
        WebhookEndpoint.company_id == company_id, WebhookEndpoint.enabled,
        WebhookEndpoint.events.contains([event_type]))).scalars().all()


def event_body(event_type, photo):
    """`{"type", "timestamp", "data"}`: the photo as stored, without links."""
    return {"type": event_type, "timestamp": datetime.now(timezone.utc).isoformat(),
            "data": photo_record(photo)}


def emit(company_id, event_type, photo):
    """Write the deliveries of one event in the current transaction; returns their ids.

    Nothing is sent yet: commit, then `queue.enqueue_deliveries(ids)`. Call it
    while `photo` is still loaded (for `photo.deleted`, before deleting it).
    """
    event_type = EventType(event_type).value
    endpoint_ids = subscribed_endpoints(company_id, event_type)
    if not endpoint_ids:
        return []
    db.session.flush()  # the photo's own timestamps as they will be stored
    payload, message_id, now = event_body(event_type, photo), new_message_id(), utcnow()
    rows = [{"company_id": company_id, "endpoint_id": endpoint_id, "event_type": event_type,
             "message_id": message_id, "payload": payload, "status": DeliveryStatus.PENDING.value,
             "attempts": 0, "next_attempt_at": now, "dispatched_at": now, "created_at": now,
             "updated_at": now} for endpoint_id in endpoint_ids]
    return db.session.scalars(db.insert(WebhookDelivery).returning(WebhookDelivery.id), rows).all()


def announce_processed(photo_id):
    """Emit `photo.processed` if both kinds of the photo's work are done and it was
    never announced; commits and queues the deliveries. Safe to call any number of
    times, from both tasks at once: the conditional UPDATE lets one through."""
    return _announce(select(Photo.id).where(Photo.id == photo_id))


def announce_unannounced(limit=200):
    """The sweep's safety net: announce photos whose work finished unannounced
    (a worker died between its work and the announcement)."""
    return _announce(select(Photo.id).where(Photo.processed_event_at.is_(None), WORK_DONE)
                     .order_by(Photo.id).limit(limit))


def _announce(candidates):
    claimed = db.session.execute(
        update(Photo).where(Photo.id.in_(candidates),
                            Photo.processed_event_at.is_(None), WORK_DONE)
        .values(processed_event_at=utcnow()).returning(Photo.id)
        .execution_options(synchronize_session=False)).scalars().all()
    deliveries = []
    for photo_id in claimed:
        # The other task changed the row too: read it as it is now, not as this session left it.
        photo = db.session.get(Photo, photo_id, populate_existing=True)
        deliveries += emit(photo.company_id, EventType.PHOTO_PROCESSED, photo)
    db.session.commit()
    queue.enqueue_deliveries(deliveries)
    return claimed

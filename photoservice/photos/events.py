"""What integrators hear about a photo's changes: webhook deliveries, written with them.

Each function is called inside the transaction that makes the change, so the
deliveries the webhook outbox records commit, or roll back, with the change
itself. Each returns the delivery ids to queue once that transaction commits.
An event carries the photo as stored (`photo_record`), a plain payload: the
webhooks package knows nothing of photos.

`photo.processed` is announced here too, exactly once, by whichever of a photo's
two kinds of work (metadata, media) finishes last, or by the sweep if a worker
died in between.
"""
from functools import partial

from sqlalchemy import select, update

from .. import queue, request_ids
from ..database import utcnow
from ..extensions import db
from ..webhooks import events as webhooks
from ..webhooks.models import EventType
from .models import WORK_DONE, Photo
from .representation import photo_record


def emit(photo, event_type, request_id=None):
    """Write the deliveries of one event about `photo` (still loaded); returns their ids.
    They carry `request_id`, by default the current request's."""
    return webhooks.emit(photo.company_id, event_type, partial(photo_record, photo), request_id)


def photo_uploaded(photo):
    """`photo` was finalized: its file is in the store (not yet committed)."""
    return emit(photo, EventType.PHOTO_UPLOADED)


def photo_updated(photo):
    """`photo` was changed (the change is flushed, not yet committed)."""
    return emit(photo, EventType.PHOTO_UPDATED)


def photo_deleted(photo):
    """`photo`, as it was, was deleted: by its DELETE, or by the purge of abandoned uploads.

    Integrators hear of photos once uploaded (`photo.uploaded`); an upload that
    never happened and is purged was never announced, so its end is not either.
    Call it before deleting the row.
    """
    if not photo.is_uploaded:
        return []
    return emit(photo, EventType.PHOTO_DELETED)


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
    deliveries = {}
    for photo_id in claimed:
        # The other task changed the row too: read it as it is now, not as this session left it.
        photo = db.session.get(Photo, photo_id, populate_existing=True)
        # What it announces is the finalize's: the request whose media work ended last.
        request_id = photo.media_request_id or photo.request_id or request_ids.current()
        deliveries.setdefault(request_id, []).extend(emit(photo, EventType.PHOTO_PROCESSED, request_id))
    db.session.commit()
    for request_id, ids in deliveries.items():
        with request_ids.acting_for(request_id):
            queue.enqueue("delivery", ids)
    return claimed

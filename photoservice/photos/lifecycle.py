"""A photo after its create: deletion, and the purge of abandoned uploads.

Who may act follows from who may see (`queries.visible_to`): crew see only their
own photos, owners and employees every uploaded photo of their company, and a
pending photo only its creator. So "the creator, owners and employees delete"
needs no rule of its own, and a photo the caller may not touch is a 404,
exactly like a missing one.
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from .. import queue
from ..database import MAX_ID, execute, utcnow
from ..errors import NotFound
from ..extensions import db
from . import deletions, events, queries
from .models import Photo, PhotoStatus

#: Abandoned uploads removed per sweep, at most.
PURGE_BATCH = 500


def delete_photo(caller, photo_id):
    """Delete a photo the caller can see: gone for every reader at once.

    Its original and derivatives are removed from the store by a worker,
    afterwards; the request never waits on the store.
    """
    if photo_id > MAX_ID or not _remove(Photo.id == photo_id, queries.visible_to(caller)):
        raise NotFound("Photo not found.")


def purge_abandoned(limit=PURGE_BATCH):
    """Delete photos still pending PHOTO_PENDING_TTL seconds after their create, with
    whatever was stored under their key; returns how many went."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["PHOTO_PENDING_TTL"])
    # SKIP LOCKED: a photo being finalized or changed right now is left for the next sweep.
    abandoned = (select(Photo.id)
                 .where(Photo.status == PhotoStatus.PENDING_UPLOAD.value, Photo.created_at < cutoff)
                 .order_by(Photo.created_at).limit(limit).with_for_update(skip_locked=True))
    return _remove(Photo.id.in_(abandoned))


def _remove(*conditions):
    """Delete the photos matching `conditions` and schedule their objects' removal; how many.

    The one path every deletion takes: the rows go and the store-deletion outbox
    is written in one transaction, handed to a worker once it is committed.
    """
    rows = execute(delete(Photo).where(*conditions).returning(*Photo.__table__.columns)).all()
    photos = [Photo(**row._mapping) for row in rows]
    due_now = deletions.schedule(photos)
    for photo in photos:
        events.photo_deleted(photo)
    db.session.commit()
    queue.enqueue_store_deletions(due_now)
    return len(photos)

"""A photo after its create: deletion.

Who may act follows from who may see (`queries.visible_to`): crew see only their
own photos, owners and employees every uploaded photo of their company, and a
pending photo only its creator. So "the creator, owners and employees delete"
needs no rule of its own, and a photo the caller may not touch is a 404,
exactly like a missing one.
"""
from sqlalchemy import delete

from .. import queue
from ..database import MAX_ID, execute
from ..errors import NotFound
from ..extensions import db
from . import deletions, events, queries
from .models import Photo


def delete_photo(caller, photo_id):
    """Delete a photo the caller can see: gone for every reader at once.

    Its original and derivatives are removed from the store by a worker,
    afterwards; the request never waits on the store.
    """
    if photo_id > MAX_ID or not _remove(Photo.id == photo_id, queries.visible_to(caller)):
        raise NotFound("Photo not found.")


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

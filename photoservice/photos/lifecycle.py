"""A photo after its create: changes, deletion, and the purge of abandoned uploads.

Who may act follows from who may see (`queries.visible_to`): crew see only their
own photos, owners and employees every uploaded photo of their company, and a
pending photo only its creator. So "crew change only their own photos" and "the
creator, owners and employees delete" need no rule of their own, and a photo
the caller may not touch is a 404, exactly like a missing one.
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from .. import queue
from ..database import MAX_ID, columns_of, execute, utcnow
from ..errors import NotFound
from ..extensions import db
from . import deletions, events, queries, services
from .models import REFERENCES, Photo, PhotoStatus
from .references import resolve_job

LINE_ITEMS = tuple(field for field in REFERENCES if field != "job")
#: Abandoned uploads removed per sweep, at most.
PURGE_BATCH = 500


def update_photo(caller, photo_id, changes):
    """Apply a partial update (fields as PhotoUpdateSchema loads them); returns the photo
    (a mapping of its columns).

    References are checked as at create, on the set the photo will carry. A line
    item changed without `job` takes the photo to that line item's job; `job: null`
    clears the job only when no line item is left to imply one.
    """
    photo = services.visible_or_404(caller, photo_id, lock=True)
    patched = {field: changes.pop(field) for field in REFERENCES if field in changes}
    if patched:
        references = _references_after(photo, patched)
        photo.job_id = resolve_job(caller.company_id, references)
        for field in LINE_ITEMS:
            setattr(photo, REFERENCES[field].key, references.get(field))
    for field, value in changes.items():
        setattr(photo, field, value)
    deliveries = []
    if db.session.is_modified(photo):
        photo.updated_at = utcnow()
        db.session.flush()
        deliveries = events.photo_updated(photo)
    db.session.commit()
    queue.enqueue("delivery", deliveries)
    return columns_of(photo)


def _references_after(photo, patched):
    """{field: id} of the references the photo will carry: its own, the patched ones on top."""
    merged = {field: getattr(photo, column.key) for field, column in REFERENCES.items()}
    merged.update(patched)
    if "job" not in patched and any(patched.get(field) is not None for field in LINE_ITEMS):
        merged["job"] = None  # the job follows the line item
    return {field: object_id for field, object_id in merged.items() if object_id is not None}


def delete_photo(caller, photo_id):
    """Delete a photo the caller can see: gone for every reader at once.

    Every object it may have had (upload, original, derivatives) is removed from
    the store by a worker, afterwards; the request never waits on the store.
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
    deliveries = [delivery for photo in photos for delivery in events.photo_deleted(photo)]
    db.session.commit()
    queue.enqueue("store_deletion", due_now)
    queue.enqueue("delivery", deliveries)
    return len(photos)

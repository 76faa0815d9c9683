"""The store-deletion outbox: what a deleted photo left in the store, until a worker removes it
(and a finalized photo's upload object, its bytes now the original).

`schedule` writes one row per object in the transaction that deletes the photo;
after commit `queue.enqueue("store_deletion", ids)` hands the row ids to the task
`workers.tasks.delete_stored_objects`, which calls `remove_objects`. A store
outage only delays the removal: the task retries with backoff, and the periodic
sweep sends again the rows never handed to the broker, or handed over long ago,
as it does for the photos' own work. A row goes only once its object is gone.
"""
import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, insert, or_, select, update

from .. import multipart_store, request_ids, storage, work
from ..database import execute, utcnow
from ..extensions import db
from .models import StoreDeletion
from .object_keys import original_key, stored_keys

log = logging.getLogger(__name__)

# A late pass waits this long past the last upload policy's expiry: the store's
# clock may lag ours, and a policy may be signed as the photo is being deleted.
LATE_PASS_MARGIN = timedelta(minutes=5)


def schedule(photos):
    """Write the rows that remove these deleted photos' objects (not committed).

    Returns the ids due now. While an upload policy for a photo's key may still be
    valid, a phone could post the file after the deletion: the original then gets
    a second, late pass once every such policy has expired.
    """
    now = utcnow()
    keys, late_passes = [], []
    for photo in photos:
        keys += stored_keys(photo)
        late_passes += _late_pass(photo, now)
    if late_passes:
        execute(insert(StoreDeletion), late_passes)
    return _schedule_aborts(photos) + schedule_keys(keys)


def _schedule_aborts(photos):
    """Write the rows that abort these deleted photos' open multipart uploads, parts and all
    (not committed); their ids. The upload's key is the original's, removed as well."""
    now, request_id = utcnow(), request_ids.current()
    aborts = [{"key": original_key(photo.key), "upload_id": photo.multipart_upload_id,
               "due_at": now, "dispatched_at": now, "request_id": request_id}
              for photo in photos if photo.multipart_upload_id is not None]
    if not aborts:
        return []
    return execute(insert(StoreDeletion).returning(StoreDeletion.id), aborts).scalars().all()


def schedule_upload_removal(photo):
    """Write the rows that remove a just-finalized photo's upload object (not committed):
    now, its checked bytes being the original, and in a late pass once every policy for
    its key has expired, so a POST after the finalize leaves nothing behind.

    Returns the ids due now. Only for a photo whose original has a key of its own.
    """
    execute(insert(StoreDeletion), _late_pass(photo, utcnow()))
    return schedule_keys([photo.key])


def schedule_keys(keys):
    """Write rows that remove these objects now (not committed); returns their ids.

    They count as handed to the broker: enqueue them after the commit.
    """
    if not keys:
        return []
    now = utcnow()
    return execute(insert(StoreDeletion).returning(StoreDeletion.id),
                   [{"key": key, "due_at": now, "dispatched_at": now, "request_id": request_ids.current()}
                    for key in keys]).scalars().all()


def _late_pass(photo, now):
    """The row of a second pass over the photo's upload key, if a policy for it may still be valid."""
    late = _policies_expire(photo, now)
    return ([{"key": photo.key, "due_at": late, "dispatched_at": None,
              "request_id": request_ids.current()}] if late > now else [])


def _policies_expire(photo, now):
    """When every upload policy issued for the photo's key will have expired.

    Policies are issued only while a photo is pending (create, its replays, upload-url).
    """
    issued_until = photo.uploaded_at or now
    return issued_until + timedelta(seconds=current_app.config["PHOTO_UPLOAD_EXPIRES"]) + LATE_PASS_MARGIN


def remove_objects(deletion_ids):
    """Remove the objects of these deletions (ids of due rows), then the rows; returns how many.

    Safe to repeat: a row already gone is done, an object already gone is no error.
    Raises DependencyUnavailable while the store is down; the rows stay.
    """
    rows = db.session.execute(select(StoreDeletion.id, StoreDeletion.key, StoreDeletion.upload_id)
                              .where(StoreDeletion.id.in_(deletion_ids))).all()
    db.session.commit()  # no transaction held open across the store calls
    if not rows:
        return 0
    for row in rows:
        if row.upload_id is not None:
            multipart_store.abort(row.key, row.upload_id)
    storage.delete_objects(sorted({row.key for row in rows}))
    db.session.execute(delete(StoreDeletion).where(StoreDeletion.id.in_([row.id for row in rows])))
    db.session.commit()
    return len(rows)


def note_retry(deletion_ids, countdown):
    """A retry is scheduled: count the attempt, and keep the sweep from re-sending meanwhile."""
    db.session.rollback()
    db.session.execute(update(StoreDeletion).where(StoreDeletion.id.in_(deletion_ids)).values(
        attempts=StoreDeletion.attempts + 1, dispatched_at=utcnow() + timedelta(seconds=countdown)))
    db.session.commit()


def note_failure(deletion_ids, reason):
    """The task gave up for now. Nothing is dropped: the rows keep the reason, and the
    sweep sends them again PROCESSING_REDISPATCH_AFTER seconds later."""
    db.session.rollback()
    log.warning("store deletions %s left for the sweep: %s", deletion_ids, reason)
    db.session.execute(update(StoreDeletion).where(StoreDeletion.id.in_(deletion_ids)).values(
        attempts=StoreDeletion.attempts + 1, last_error=reason[:2000], dispatched_at=utcnow()))
    db.session.commit()


def due(limit=500):
    """Ids of due deletions never handed to the broker, or handed over long ago."""
    stale = utcnow() - timedelta(seconds=current_app.config["PROCESSING_REDISPATCH_AFTER"])
    ids = db.session.execute(
        select(StoreDeletion.id)
        .where(StoreDeletion.due_at <= utcnow(),
               or_(StoreDeletion.dispatched_at.is_(None), StoreDeletion.dispatched_at < stale))
        .order_by(StoreDeletion.id).limit(limit)
    ).scalars().all()
    db.session.commit()
    return ids


def stored_request_ids(deletion_ids):
    """{deletion id: the id of the request that deleted its photo}."""
    if not deletion_ids:
        return {}
    return dict(db.session.execute(select(StoreDeletion.id, StoreDeletion.request_id)
                                   .where(StoreDeletion.id.in_(deletion_ids))).all())


def mark_dispatched(deletion_ids):
    """The sweep handed these deletions to the broker just now."""
    _set_dispatched(deletion_ids, utcnow())


def mark_undispatched(deletion_ids):
    """The broker refused them: leave them for the next sweep."""
    _set_dispatched(deletion_ids, None)


def _set_dispatched(deletion_ids, when):
    if deletion_ids:
        db.session.execute(update(StoreDeletion).where(StoreDeletion.id.in_(deletion_ids))
                           .values(dispatched_at=when))
        db.session.commit()


work.register("store_deletion", due=due, mark_dispatched=mark_dispatched,
              mark_undispatched=mark_undispatched, note_retry=note_retry,
              request_ids=stored_request_ids)

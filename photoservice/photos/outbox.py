"""A photo's outbox: when each kind of its work (metadata, media) was last handed to the
broker, and which photos' work the sweep sends.

`dispatched_at` (metadata work) and `media_dispatched_at` (media work) are set in
the transaction that makes the work due, cleared when the broker refuses the
hand-off, renewed by the sweep that re-sends it, pushed past a scheduled retry.
NULL = not yet sent. Both kinds are registered in `photoservice.work` from here.
"""
from datetime import timedelta
from functools import partial

from flask import current_app
from sqlalchemy import or_, select, update

from .. import work
from ..database import utcnow
from ..extensions import db
from .models import MediaStatus, Photo, ProcessingStatus

METADATA = Photo.dispatched_at
MEDIA = Photo.media_dispatched_at
UNFINISHED = (ProcessingStatus.QUEUED.value, ProcessingStatus.PROCESSING.value)


def attempts_exhausted(attempts):
    """The failure of work tried `attempts` times that never ended (its worker was
    stopped, by its time limit or otherwise, each time)."""
    return f"Gave up after {attempts} attempts: none of them finished."


def mark_undispatched(photo_ids, marker=METADATA):
    """The broker refused the work: leave it for the next sweep."""
    _set(photo_ids, marker, None)


def mark_dispatched(photo_ids, marker=METADATA):
    """The sweep handed these photos' work to the broker just now."""
    _set(photo_ids, marker, utcnow())


def _set(photo_ids, marker, when):
    if photo_ids:
        db.session.execute(update(Photo).where(Photo.id.in_(photo_ids)).values({marker: when}))
        db.session.commit()


def hold_for_retry(photo_id, countdown, marker=METADATA):
    """A retry is scheduled in `countdown` seconds: keep the sweep from re-sending the
    work meanwhile. Discards whatever the failed attempt left unsaved."""
    db.session.rollback()
    _set([photo_id], marker, utcnow() + timedelta(seconds=countdown))


def due_for_dispatch(limit=500):
    """Ids of photos whose metadata work is unfinished and not (or no longer) with the
    broker; work tried PROCESSING_MAX_ATTEMPTS times is failed instead."""
    return _due(Photo.processing_status.in_(UNFINISHED), Photo.processing_attempts, METADATA,
                lambda reason: {"processing_status": ProcessingStatus.FAILED.value,
                                "processing_error": reason}, limit)


def due_for_media(limit=500):
    """Ids of photos whose media work is queued and not (or no longer) with the broker;
    work tried PROCESSING_MAX_ATTEMPTS times is failed instead."""
    return _due(Photo.media_status == MediaStatus.QUEUED.value, Photo.media_attempts, MEDIA,
                lambda reason: {"media_status": MediaStatus.FAILED.value, "media_error": reason},
                limit)


def request_ids(photo_ids, column=Photo.request_id):
    """{photo id: the id of the request that queued its work} (photoservice.request_ids)."""
    if not photo_ids:
        return {}
    return dict(db.session.execute(select(Photo.id, column).where(Photo.id.in_(photo_ids))).all())


def _due(unfinished, attempts, marker, failed, limit):
    config = current_app.config
    tries = config["PROCESSING_MAX_ATTEMPTS"]
    db.session.execute(update(Photo).where(unfinished, attempts >= tries)
                       .values(failed(attempts_exhausted(tries))))
    stale = utcnow() - timedelta(seconds=config["PROCESSING_REDISPATCH_AFTER"])
    ids = db.session.execute(
        select(Photo.id).where(unfinished, or_(marker.is_(None), marker < stale))
        .order_by(Photo.id).limit(limit)
    ).scalars().all()
    db.session.commit()
    return ids


work.register("metadata", due=due_for_dispatch, mark_dispatched=mark_dispatched,
              mark_undispatched=mark_undispatched, note_retry=hold_for_retry,
              request_ids=request_ids)
work.register("media", due=due_for_media, mark_dispatched=partial(mark_dispatched, marker=MEDIA),
              mark_undispatched=partial(mark_undispatched, marker=MEDIA),
              note_retry=partial(hold_for_retry, marker=MEDIA),
              request_ids=partial(request_ids, column=Photo.media_request_id))

"""A photo's outbox: when each kind of its work (metadata, media) was last handed to the
broker, and which photos' work the sweep sends.

`dispatched_at` (metadata work) and `media_dispatched_at` (media work) are set in
the transaction that makes the work due, cleared when the broker refuses the
hand-off, renewed by the sweep that re-sends it, pushed past a scheduled retry.
NULL = not yet sent. Both kinds are registered in `photoservice.work` from here.

Media work has a fair share between companies: a company has at most
DISPATCH_PER_COMPANY media tasks with the broker (queued, running or waiting for a
retry). A finalize past that leaves its work undispatched (`media_marker`); each media
task that ends claims its company's next (`claim_media`), and the sweep sends each
company no more than the room it has. A crew's 500 photos, or the re-queue of a whole
library, never stand in the queue in front of another company's photo. Metadata work
is first in, first out: it is queued at the API's pace, one create at a time, and
takes milliseconds.
"""
from datetime import timedelta
from functools import partial

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import aliased

from .. import work
from ..database import utcnow
from ..extensions import db
from .models import MediaStatus, Photo, ProcessingStatus

METADATA = Photo.dispatched_at
MEDIA = Photo.media_dispatched_at
UNFINISHED = (ProcessingStatus.QUEUED.value, ProcessingStatus.PROCESSING.value)
MEDIA_UNFINISHED = Photo.media_status == MediaStatus.QUEUED.value


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
        # The marker is the service's own bookkeeping: the photo's updated_at stays.
        db.session.execute(update(Photo).where(Photo.id.in_(photo_ids))
                           .values({marker: when, Photo.updated_at: Photo.updated_at}))
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
    _fail_exhausted(MEDIA_UNFINISHED, Photo.media_attempts,
                    lambda reason: {"media_status": MediaStatus.FAILED.value, "media_error": reason})
    busy = (select(Photo.company_id, func.count().label("tasks"))
            .where(_media_with_broker()).group_by(Photo.company_id).subquery())
    waiting = (select(Photo.id, Photo.company_id,
                      func.row_number().over(partition_by=Photo.company_id, order_by=Photo.id).label("place"))
               .where(MEDIA_UNFINISHED, _not_with_broker(MEDIA)).subquery())
    room = current_app.config["DISPATCH_PER_COMPANY"] - func.coalesce(busy.c.tasks, 0)
    chosen = (select(waiting.c.id).outerjoin(busy, busy.c.company_id == waiting.c.company_id)
              .where(waiting.c.place <= room).order_by(waiting.c.id).limit(limit))
    # Claimed in the same statement, each row checked again: what a task's claim sent
    # meanwhile is not sent twice.
    ids = db.session.execute(
        update(Photo).where(Photo.id.in_(chosen.scalar_subquery()), MEDIA_UNFINISHED, _not_with_broker(MEDIA))
        .values(media_dispatched_at=utcnow(), updated_at=Photo.updated_at).returning(Photo.id)
        .execution_options(synchronize_session=False)
    ).scalars().all()
    db.session.commit()
    return sorted(ids)


def media_marker(company_id):
    """The media marker for a photo of `company_id` whose media work is made due now: now
    (send it after the commit) while the company has room under DISPATCH_PER_COMPANY,
    else None (held back: after the commit, send `claim_media(company_id)` instead)."""
    return utcnow() if _media_room(company_id) > 0 else None


def claim_media(company_id):
    """Mark handed over the company's oldest held-back media work, as much as it has room
    for, and return those ids, to send now (each with its own request id).

    Called after a task of the company ends and after a commit that held work back.
    Either sees the other's commit, so held-back work never waits for the sweep because
    the two ran at the same time. The rows are locked until the commit: a claim at the
    same time skips them."""
    room = _media_room(company_id)
    if room <= 0:
        db.session.commit()
        return []
    held = (select(Photo.id).where(Photo.company_id == company_id, MEDIA_UNFINISHED, MEDIA.is_(None))
            .order_by(Photo.id).limit(room).with_for_update(skip_locked=True))
    ids = db.session.execute(
        update(Photo).where(Photo.id.in_(held.scalar_subquery()))
        .values(media_dispatched_at=utcnow(), updated_at=Photo.updated_at).returning(Photo.id)
        .execution_options(synchronize_session=False)).scalars().all()
    db.session.commit()
    return sorted(ids)


def claim_media_after(photo_id):
    """A media task on `photo_id` ended, or waits for its retry: `claim_media` for its
    company if it has work held back (one statement otherwise: the common case). Nothing
    if the photo is gone: the company's next task or the sweep claims."""
    held = aliased(Photo)
    company_id = db.session.execute(select(Photo.company_id).where(
        Photo.id == photo_id,
        select(held.id).where(held.company_id == Photo.company_id, held.media_status == MediaStatus.QUEUED.value,
                              held.media_dispatched_at.is_(None)).exists())).scalar()
    if company_id is None:
        db.session.commit()
        return []
    return claim_media(company_id)


def request_ids(photo_ids, column=Photo.request_id):
    """{photo id: the id of the request that queued its work} (photoservice.request_ids)."""
    if not photo_ids:
        return {}
    return dict(db.session.execute(select(Photo.id, column).where(Photo.id.in_(photo_ids))).all())


def _due(unfinished, attempts, marker, failed, limit):
    _fail_exhausted(unfinished, attempts, failed)
    ids = db.session.execute(
        select(Photo.id).where(unfinished, _not_with_broker(marker)).order_by(Photo.id).limit(limit)
    ).scalars().all()
    db.session.commit()
    return ids


def _fail_exhausted(unfinished, attempts, failed):
    tries = current_app.config["PROCESSING_MAX_ATTEMPTS"]
    db.session.execute(update(Photo).where(unfinished, attempts >= tries)
                       .values(failed(attempts_exhausted(tries))))


def _stale():
    return utcnow() - timedelta(seconds=current_app.config["PROCESSING_REDISPATCH_AFTER"])


def _not_with_broker(marker):
    """Never handed over, or handed over so long ago that the work counts as lost."""
    return or_(marker.is_(None), marker < _stale())


def _media_room(company_id):
    """How many more media tasks the company may have with the broker now."""
    busy = db.session.execute(select(func.count()).where(Photo.company_id == company_id,
                                                         _media_with_broker())).scalar_one()
    return current_app.config["DISPATCH_PER_COMPANY"] - busy


def _media_with_broker():
    """Media work handed over recently, or held for a scheduled retry: a company's share."""
    return MEDIA_UNFINISHED & (MEDIA >= _stale())


work.register("metadata", due=due_for_dispatch, mark_dispatched=mark_dispatched,
              mark_undispatched=mark_undispatched, note_retry=hold_for_retry,
              request_ids=request_ids)
work.register("media", due=due_for_media, mark_dispatched=partial(mark_dispatched, marker=MEDIA),
              mark_undispatched=partial(mark_undispatched, marker=MEDIA),
              note_retry=partial(hold_for_retry, marker=MEDIA),
              request_ids=partial(request_ids, column=Photo.media_request_id),
              claim_after=claim_media_after)

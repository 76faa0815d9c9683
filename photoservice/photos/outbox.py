"""A photo's outbox: when each kind of its work (metadata, media) was last handed to the
broker, and which photos' work the sweep sends.

`dispatched_at` (metadata work) and `media_dispatched_at` (media work) are set in
the transaction that makes the work due, cleared when the broker refuses the
hand-off, renewed by the sweep that re-sends it, pushed past a scheduled retry.
NULL = not yet sent. Both kinds are registered in `photoservice.work` from here.

Fair share: a company has at most DISPATCH_PER_COMPANY tasks of each kind with the
broker (queued, running or waiting for a retry). Work past that stays undispatched
(`admit`); each task that ends sends its company's next (`top_up`), and the sweep
sends no more than the room each company has, so a burst of one company never
stands in front of another company's photo in the queue.
"""
from datetime import timedelta
from functools import partial

from flask import current_app
from sqlalchemy import func, or_, select, update

from .. import work
from ..database import utcnow
from ..extensions import db
from .models import MediaStatus, Photo, ProcessingStatus

METADATA = Photo.dispatched_at
MEDIA = Photo.media_dispatched_at
UNFINISHED = (ProcessingStatus.QUEUED.value, ProcessingStatus.PROCESSING.value)
METADATA_UNFINISHED = Photo.processing_status.in_(UNFINISHED)
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
    return _due(METADATA_UNFINISHED, Photo.processing_attempts, METADATA,
                lambda reason: {"processing_status": ProcessingStatus.FAILED.value,
                                "processing_error": reason}, limit)


def due_for_media(limit=500):
    """Ids of photos whose media work is queued and not (or no longer) with the broker;
    work tried PROCESSING_MAX_ATTEMPTS times is failed instead."""
    return _due(MEDIA_UNFINISHED, Photo.media_attempts, MEDIA,
                lambda reason: {"media_status": MediaStatus.FAILED.value, "media_error": reason},
                limit)


def request_ids(photo_ids, column=Photo.request_id):
    """{photo id: the id of the request that queued its work} (photoservice.request_ids)."""
    if not photo_ids:
        return {}
    return dict(db.session.execute(select(Photo.id, column).where(Photo.id.in_(photo_ids))).all())


def _stale():
    return utcnow() - timedelta(seconds=current_app.config["PROCESSING_REDISPATCH_AFTER"])


def _with_broker(unfinished, marker):
    """Unfinished work handed over recently (or held for a scheduled retry)."""
    return unfinished & (marker >= _stale())


def _due(unfinished, attempts, marker, failed, limit):
    """Unfinished work not (or no longer) with the broker, each company's only up to the
    room it has under DISPATCH_PER_COMPANY."""
    tries = current_app.config["PROCESSING_MAX_ATTEMPTS"]
    db.session.execute(update(Photo).where(unfinished, attempts >= tries)
                       .values(failed(attempts_exhausted(tries))))
    busy = (select(Photo.company_id, func.count().label("tasks"))
            .where(_with_broker(unfinished, marker)).group_by(Photo.company_id).subquery())
    waiting = (select(Photo.id, Photo.company_id,
                      func.row_number().over(partition_by=Photo.company_id, order_by=Photo.id).label("place"))
               .where(unfinished, or_(marker.is_(None), marker < _stale())).subquery())
    room = current_app.config["DISPATCH_PER_COMPANY"] - func.coalesce(busy.c.tasks, 0)
    chosen = (select(waiting.c.id).outerjoin(busy, busy.c.company_id == waiting.c.company_id)
              .where(waiting.c.place <= room).order_by(waiting.c.id).limit(limit).scalar_subquery())
    # Claimed in the same statement, re-checked on each row: what a task's top-up sent
    # meanwhile is not sent twice.
    ids = db.session.execute(
        update(Photo).where(Photo.id.in_(chosen), unfinished, or_(marker.is_(None), marker < _stale()))
        .values({marker: utcnow()}).returning(Photo.id)
    ).scalars().all()
    db.session.commit()
    return sorted(ids)


def admit(photo_ids, unfinished, marker):
    """The work of `photo_ids` was just made due: mark it undispatched, then claim for each
    of their companies its oldest undispatched work up to its room under
    DISPATCH_PER_COMPANY; returns the ids claimed, to send now. The rest waits for a task
    of its company to end (`top_up`) or for the sweep. Undispatched first, claimed second:
    a top-up running at the same time sees the rows either way, none is stranded."""
    if not photo_ids:
        return []
    _set(photo_ids, marker, None)
    companies = db.session.execute(
        select(Photo.company_id).where(Photo.id.in_(photo_ids)).distinct()).scalars().all()
    return sorted(photo_id for company_id in companies for photo_id in _claim(company_id, unfinished, marker))


def top_up(photo_id, unfinished, marker):
    """A task on `photo_id` ended (or is waiting for its retry): claim its company's next
    undispatched work, as much as the company has room for; the ids, to send now."""
    company_id = db.session.execute(select(Photo.company_id).where(Photo.id == photo_id)).scalar()
    if company_id is None:
        db.session.commit()
        return []
    return _claim(company_id, unfinished, marker)


def _claim(company_id, unfinished, marker):
    """Mark dispatched the company's oldest undispatched work, up to its room."""
    busy = db.session.execute(select(func.count()).where(
        Photo.company_id == company_id, _with_broker(unfinished, marker))).scalar_one()
    room = current_app.config["DISPATCH_PER_COMPANY"] - busy
    if room <= 0:
        db.session.commit()
        return []
    # Locked until the commit (a top-up at the same time skips them), then marked.
    ids = db.session.execute(
        select(Photo.id).where(Photo.company_id == company_id, unfinished, marker.is_(None))
        .order_by(Photo.id).limit(room).with_for_update(skip_locked=True)).scalars().all()
    _set(ids, marker, utcnow())
    db.session.commit()
    return ids


work.register("metadata", due=due_for_dispatch, mark_dispatched=mark_dispatched,
              mark_undispatched=mark_undispatched, note_retry=hold_for_retry,
              request_ids=request_ids,
              admit=partial(admit, unfinished=METADATA_UNFINISHED, marker=METADATA),
              top_up=partial(top_up, unfinished=METADATA_UNFINISHED, marker=METADATA))
work.register("media", due=due_for_media, mark_dispatched=partial(mark_dispatched, marker=MEDIA),
              mark_undispatched=partial(mark_undispatched, marker=MEDIA),
              note_retry=partial(hold_for_retry, marker=MEDIA),
              request_ids=partial(request_ids, column=Photo.media_request_id),
              admit=partial(admit, unfinished=MEDIA_UNFINISHED, marker=MEDIA),
              top_up=partial(top_up, unfinished=MEDIA_UNFINISHED, marker=MEDIA))

"""A photo's outbox markers: when each kind of its work was last handed to the broker.

`dispatched_at` (metadata work) and `media_dispatched_at` (media work) are set in
the transaction that makes the work due, cleared when the broker refuses the
hand-off, renewed by the sweep that re-sends it. NULL = not yet sent.
"""
from datetime import timedelta

from sqlalchemy import update

from ..database import utcnow
from ..extensions import db
from .models import Photo

METADATA = Photo.dispatched_at
MEDIA = Photo.media_dispatched_at


def mark_undispatched(photo_id, marker=METADATA):
    """The broker refused the work: leave it for the next sweep."""
    db.session.execute(update(Photo).where(Photo.id == photo_id).values({marker: None}))
    db.session.commit()


def hold_for_retry(photo_id, countdown, marker=METADATA):
    """A retry is scheduled in `countdown` seconds: keep the sweep from re-sending the
    work meanwhile. Discards whatever the failed attempt left unsaved."""
    db.session.rollback()
    db.session.execute(update(Photo).where(Photo.id == photo_id).values(
        {marker: utcnow() + timedelta(seconds=countdown)}))
    db.session.commit()


def mark_dispatched(photo_ids, marker=METADATA):
    """The sweep handed these photos' work to the broker just now."""
    if photo_ids:
        db.session.execute(update(Photo).where(Photo.id.in_(photo_ids)).values({marker: utcnow()}))
        db.session.commit()

"""A photo's outbox marker: `dispatched_at`, when its work was last handed to the broker.

Set when the row is written (in the same transaction), cleared when the broker
refuses the hand-off, renewed by the sweep that re-sends it. NULL = not yet sent.
"""
from sqlalchemy import update

from ..database import utcnow
from ..extensions import db
from .models import Photo


def mark_undispatched(photo_id):
    """The broker refused the work: leave it for the next sweep."""
    db.session.execute(update(Photo).where(Photo.id == photo_id).values(dispatched_at=None))
    db.session.commit()


def mark_dispatched(photo_ids):
    """The sweep handed these photos' work to the broker just now."""
    if photo_ids:
        db.session.execute(update(Photo).where(Photo.id.in_(photo_ids)).values(dispatched_at=utcnow()))
        db.session.commit()

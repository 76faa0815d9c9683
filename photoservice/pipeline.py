"""The seam between the API and background work.

Services send `photo_created` after the photo's row is committed;
`photoservice.queue` connects the receiver that hands the photo to Celery. With
nothing connected, creating a photo still works: processing simply has no consumer.

A photo's `dispatched_at` is its outbox marker: set when the row is written,
cleared here when the broker refuses the hand-off, so the sweep sends it later.
"""
from blinker import Namespace
from sqlalchemy import update

from .extensions import db
from .photos.models import Photo

signals = Namespace()

#: Sent with `photo_id=` once a new photo's row is committed.
photo_created = signals.signal("photo-created")


def announce_photo_created(photo_id):
    photo_created.send(None, photo_id=photo_id)


def mark_undispatched(photo_id):
    """The broker refused the work: leave it for the next sweep."""
    db.session.execute(update(Photo).where(Photo.id == photo_id).values(dispatched_at=None))
    db.session.commit()

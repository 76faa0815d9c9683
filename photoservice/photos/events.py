"""What integrators hear about a photo's changes: webhook deliveries, written with them.

Each function is called inside the transaction that makes the change, so the
deliveries the webhook outbox records commit, or roll back, with the change
itself. Each returns the delivery ids to queue once that transaction commits.
"""
from ..webhooks import events as webhooks
from ..webhooks.models import EventType


def photo_uploaded(photo):
    """`photo` was finalized: its file is in the store (not yet committed)."""
    return webhooks.emit(photo.company_id, EventType.PHOTO_UPLOADED, photo)


def photo_updated(photo):
    """`photo` was changed (the change is flushed, not yet committed)."""
    return webhooks.emit(photo.company_id, EventType.PHOTO_UPDATED, photo)


def photo_deleted(photo):
    """`photo`, as it was, was deleted: by its DELETE, or by the purge of abandoned uploads.

    Integrators hear of photos once uploaded (`photo.uploaded`); an upload that
    never happened and is purged was never announced, so its end is not either.
    """
    if not photo.is_uploaded:
        return []
    return webhooks.emit(photo.company_id, EventType.PHOTO_DELETED, photo)

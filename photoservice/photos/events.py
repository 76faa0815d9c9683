"""What integrators will hear about a photo's changes: the seam for webhooks.

Each function is called inside the transaction that makes the change, so the
deliveries a webhook outbox records here commit, or roll back, with the change
itself. Nothing is recorded yet.
"""


def photo_updated(photo):
    """`photo` was changed (the change is flushed, not yet committed)."""


def photo_deleted(photo):
    """`photo`, as it was, was deleted: by its DELETE, or by the purge of abandoned uploads."""

"""Keyset cursors of the photo list: where the next page starts, opaque to clients.

A cursor names the last photo of a page by its place in the display order
(captured_at, created_at, id), so the next page starts right after it on the
listing index wherever it is, with no count and no OFFSET to walk. Photos added or
removed meanwhile shift nothing: a client paging by cursor neither skips nor repeats
one (a page number can, and its exact count costs a scan of every matching row).
"""
import base64
import binascii
from datetime import datetime

from ..database import MAX_ID


def encode(row):
    """The cursor after `row` (a mapping with captured_at, created_at and id)."""
    captured = row["captured_at"].isoformat() if row["captured_at"] is not None else ""
    text = f"{captured}|{row['created_at'].isoformat()}|{row['id']}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor):
    """(captured_at or None, created_at, id) of a cursor `encode` made; ValueError otherwise."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        captured, created, photo_id = text.split("|")
        after = (_moment(captured) if captured else None, _moment(created), int(photo_id))
    except (binascii.Error, UnicodeError, ValueError):
        raise ValueError("Not a cursor this list gave.") from None
    if not 0 < after[2] <= MAX_ID:
        raise ValueError("Not a cursor this list gave.")
    return after


def _moment(text):
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(text)
    return moment

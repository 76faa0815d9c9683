"""API keys: issued once in clear, stored as a SHA-256 digest, revocable."""
import hashlib
import secrets

from ..extensions import db
from ..models_base import utcnow
from .models import ApiKey, User

KEY_PREFIX = "psk_"


def digest(key):
    # Keys are 256 random bits, so a fast unsalted hash is as strong as a slow one.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def issue_key(user):
    """Create a key for `user`; returns (ApiKey row, the key in clear)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(user_id=user.id, prefix=key[:12], digest=digest(key))
    db.session.add(row)
    db.session.flush()
    return row, key


def revoke_key(key_id):
    """Revoke a key by id; returns False if there is no such key."""
    row = db.session.get(ApiKey, key_id)
    if row is None:
        return False
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return True


def identity_for_key(key):
    """(user id, company id, role) of the user a live key belongs to, or None.

    Runs on every request: one indexed lookup, three columns, no ORM objects.
    """
    return db.session.execute(
        db.select(User.id, User.company_id, User.role)
        .join(ApiKey, ApiKey.user_id == User.id)
        .where(ApiKey.digest == digest(key), ApiKey.revoked_at.is_(None))
    ).one_or_none()

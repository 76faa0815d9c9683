"""API keys: issued once in clear, stored as a SHA-256 digest, revocable."""
import hashlib
import secrets

from ..extensions import db
from ..models_base import utcnow
from .models import ApiKey

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


def user_for_key(key):
    """The user a live key belongs to, or None."""
    api_key = db.session.execute(
        db.select(ApiKey).where(ApiKey.digest == digest(key), ApiKey.revoked_at.is_(None))
    ).scalar_one_or_none()
    return api_key.user if api_key else None

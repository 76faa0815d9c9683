"""API keys: issued once in clear, stored as a SHA-256 digest, revocable."""
import hashlib
import secrets

from sqlalchemy import bindparam, select

from ..database import execute, utcnow
from ..extensions import db
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


_users, _keys = User.__table__, ApiKey.__table__
_IDENTITY = (
    select(_users.c.id, _users.c.company_id, _users.c.role)
    .join(_keys, _keys.c.user_id == _users.c.id)
    .where(_keys.c.digest == bindparam("digest"), _keys.c.revoked_at.is_(None))
)


def identity_for_key(key):
    """(user id, company id, role) of the user a live key belongs to, or None.

    Runs on every request: one indexed lookup of three columns, as a prebuilt
    statement, so a revoked key is refused on the very next request.
    """
    return execute(_IDENTITY, {"digest": digest(key)}).one_or_none()

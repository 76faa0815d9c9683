"""Webhook signing secrets at rest: sealed with WEBHOOK_SECRET_KEYS.

Whoever reads the database (a dump, a backup, a replica) must not be able to
sign events that integrators trust. The setting holds comma-separated Fernet
keys: the first seals, every one opens (MultiFernet), so keys rotate by putting
a new key first and keeping the old ones after it while rows sealed with them
remain. The clear secret exists only in memory: shown once when it is made, and
opened to sign each delivery.
"""
from cryptography.fernet import Fernet, MultiFernet
from flask import current_app

HOW_TO_MAKE_ONE = ('python -c "from cryptography.fernet import Fernet; '
                   'print(Fernet.generate_key().decode())"')


def keyring(setting):
    """The MultiFernet of a WEBHOOK_SECRET_KEYS value; raises RuntimeError saying
    what is wrong (never quoting a key) and how to make one."""
    keys = [key.strip() for key in (setting or "").split(",") if key.strip()]
    if not keys:
        raise RuntimeError(
            "WEBHOOK_SECRET_KEYS is not set: webhook signing secrets are encrypted at rest "
            f"with it. Make a key with `{HOW_TO_MAKE_ONE}` and set WEBHOOK_SECRET_KEYS to it "
            "(`make dev` makes one in .dev/webhook-secret-keys).")
    fernets = []
    for position, key in enumerate(keys, 1):
        try:
            fernets.append(Fernet(key))
        except ValueError:
            raise RuntimeError(
                f"WEBHOOK_SECRET_KEYS: key {position} of {len(keys)} is not a Fernet key "
                f"(32 bytes in url-safe base64). Make one with `{HOW_TO_MAKE_ONE}`.") from None
    return MultiFernet(fernets)


def init_app(app):
    """Refuse to start without usable keys: a missing key would only show when the
    first endpoint is registered or the first delivery is signed."""
    app.extensions["webhook_secret_keys"] = keyring(app.config.get("WEBHOOK_SECRET_KEYS"))


def seal(secret):
    """The token stored for `secret`, sealed with the first key."""
    return current_app.extensions["webhook_secret_keys"].encrypt(secret.encode()).decode()


def unseal(token):
    """The secret inside a stored token; raises cryptography's InvalidToken when no
    key of WEBHOOK_SECRET_KEYS opens it."""
    return current_app.extensions["webhook_secret_keys"].decrypt(token.encode()).decode()

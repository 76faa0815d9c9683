"""Standard Webhooks signatures, made with the `standardwebhooks` package itself.

Headers `webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature`:
`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per secret, separated
by spaces, so a receiver holding either secret verifies during a rotation.
"""
import base64
import secrets
from datetime import datetime, timezone

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret():
    """A fresh signing secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_message_id():
    """A `webhook-id`: unique per message, kept across its retries."""
    return "msg_" + secrets.token_urlsafe(18)


def signed_headers(signing_secrets, message_id, body, now=None):
    """The three Standard Webhooks headers for `body` (text), signed with every secret."""
    sent_at = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    signatures = " ".join(Webhook(secret).sign(message_id, sent_at, body) for secret in signing_secrets)
    return {"webhook-id": message_id, "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": signatures}

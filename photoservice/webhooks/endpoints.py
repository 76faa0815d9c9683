"""An endpoint's state beyond its settings: its signing secrets (sealed at rest),
disabling it."""
from datetime import timedelta

from sqlalchemy import func, update

from ..database import utcnow
from ..extensions import db
from .models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from .outbox import PENDING
from .secret_keys import seal, unseal
from .signing import new_secret

#: After a rotation the old secret signs beside the new one this long.
ROTATION_OVERLAP = timedelta(hours=24)


def signing_secrets(endpoint, now):
    """The secrets a delivery is signed with now, opened: the current one, and the
    previous one while its overlap lasts. Raises InvalidToken when
    WEBHOOK_SECRET_KEYS has no key that opens them."""
    found = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and \
            endpoint.previous_secret_expires_at > now:
        found.append(endpoint.previous_secret)
    return [unseal(token) for token in found]


def give_secret(endpoint):
    """A fresh secret for the endpoint, stored sealed; returns it in clear, for the
    one response that shows it (nothing keeps it)."""
    secret = new_secret()
    endpoint.secret = seal(secret)
    return secret


def rotate_secret(endpoint):
    """Give the endpoint a new secret (returned in clear, like give_secret's); the old
    one keeps signing for ROTATION_OVERLAP."""
    endpoint.previous_secret = endpoint.secret  # still sealed
    endpoint.previous_secret_expires_at = utcnow() + ROTATION_OVERLAP
    return give_secret(endpoint)


def disable(endpoint_id, reason):
    """Stop deliveries to an endpoint: it gets no new ones and its pending ones fail.
    Not committed. Re-enabling it (PATCH) sends only what happens afterwards;
    a failed delivery can be redelivered by hand."""
    db.session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id,
                                                     WebhookEndpoint.enabled)
                       .values(enabled=False, disabled_reason=reason, disabled_at=utcnow())
                       .execution_options(synchronize_session="fetch"))
    db.session.execute(update(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id, PENDING)
                       .values(status=DeliveryStatus.FAILED.value, next_attempt_at=None,
                               last_error=func.concat_ws("; ", WebhookDelivery.last_error,
                                                         f"Not sent: endpoint disabled ({reason})"))
                       .execution_options(synchronize_session=False))


def enable(endpoint):
    """Deliver to the endpoint again, with a clean failure count."""
    endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at = True, None, None
    endpoint.consecutive_failures = 0

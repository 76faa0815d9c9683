"""Webhook endpoints a company registers, and each event's delivery to one of them."""
import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.orm import Mapped, mapped_column

from ..database import CompanyOwned, JSONDocument, UTCDateTime, utcnow
from ..extensions import db


class EventType(str, enum.Enum):
    PHOTO_UPLOADED = "photo.uploaded"
    PHOTO_PROCESSED = "photo.processed"
    PHOTO_UPDATED = "photo.updated"
    PHOTO_DELETED = "photo.deleted"


EVENT_TYPES = [event.value for event in EventType]


class DeliveryStatus(str, enum.Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookEndpoint(CompanyOwned, db.Model):
    """Where a company wants its photo events POSTed, and how that is going."""

    __tablename__ = "webhook_endpoints"

    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list] = mapped_column(JSONDocument)
    description: Mapped[str | None] = mapped_column(Text)
    # The `whsec_…` signing secret as a Fernet token of WEBHOOK_SECRET_KEYS (secret_keys).
    secret: Mapped[str] = mapped_column(Text)
    # After a rotation the old secret (a token too) signs beside the new one until it expires.
    previous_secret: Mapped[str | None] = mapped_column(Text)
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WebhookDelivery(CompanyOwned, db.Model):
    """One event for one endpoint: the outbox row its attempts are made from."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("endpoint_id", "message_id"),)

    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(40))
    # The `webhook-id` header: the same on every attempt and redelivery, so receivers dedupe.
    message_id: Mapped[str] = mapped_column(String(40))
    # JSON, not JSONB: the body keeps the key order it was written in.
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    # When the next attempt is due. While an attempt runs, the end of its lease:
    # a worker that dies mid-attempt leaves a row the sweep sends again after it.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Outbox marker: when the due attempt was handed to the broker; NULL = not yet.
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The X-Request-ID of the request whose change the event announces, sent with it.
    request_id: Mapped[str | None] = mapped_column(String(200))
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # The first bytes of the receiver's last answer, no more.
    last_response: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


# The log of one endpoint, newest first; the sweep's due rows.
Index("ix_webhook_deliveries_log", WebhookDelivery.endpoint_id, WebhookDelivery.created_at.desc(),
      WebhookDelivery.id.desc())
# The sweep deletes rows older than WEBHOOK_DELIVERY_RETENTION.
Index("ix_webhook_deliveries_created_at", WebhookDelivery.created_at)
Index("ix_webhook_deliveries_pending", WebhookDelivery.next_attempt_at,
      postgresql_where=WebhookDelivery.status == DeliveryStatus.PENDING.value)

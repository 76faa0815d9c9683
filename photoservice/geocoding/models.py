"""Reverse-geocoding results, cached by place for every worker to share."""
from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..database import JSONDocument, UTCDateTime, utcnow


class GeocodedPlace(db.Model):
    """What a geocoder said about a point; `location` is null where it found nothing."""

    __tablename__ = "geocoded_places"
    __table_args__ = (Index("ix_geocoded_places_lookup", "geocoder", "latitude", "longitude"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    geocoder: Mapped[str] = mapped_column(String(50))
    latitude: Mapped[float]
    longitude: Mapped[float]
    location: Mapped[dict | None] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

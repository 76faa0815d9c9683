"""The photo: a record created before its file reaches the store."""
import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..database import CompanyOwned, JSONDocument, UTCDateTime, utcnow


class PhotoStatus(str, enum.Enum):
    PENDING_UPLOAD = "pending_upload"
    UPLOADED = "uploaded"


class MediaStatus(str, enum.Enum):
    """Where the work on the file itself stands (hash, dimensions, derivatives)."""

    WAITING_UPLOAD = "waiting_upload"
    QUEUED = "queued"
    PROCESSED = "processed"
    FAILED = "failed"


class CapturedAtSource(str, enum.Enum):
    CLIENT = "client"
    FILE = "file"


class ProcessingStatus(str, enum.Enum):
    """Where a photo's background work stands."""

    QUEUED = "queued"
    PROCESSING = "processing"
    PROCESSED = "processed"
    FAILED = "processing_failed"


def _reference(table):
    # A deleted job or line item detaches its photos rather than deleting evidence.
    return mapped_column(ForeignKey(f"{table}.id", ondelete="SET NULL"), index=True)


class Photo(CompanyOwned, db.Model):
    __tablename__ = "photos"
    __table_args__ = (
        # Offline clients retry creates: one photo per (creator, client_id). Another
        # user's client_id is that user's own photo: crew never see each other's.
        UniqueConstraint("created_by", "client_id"),
    )

    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(150))
    description: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[int | None] = _reference("jobs")
    job_inspection_line_item_id: Mapped[int | None] = _reference("job_inspection_line_items")
    estimate_line_item_id: Mapped[int | None] = _reference("estimate_line_items")
    supplemental_line_item_id: Mapped[int | None] = _reference("supplemental_line_items")
    change_order_line_item_id: Mapped[int | None] = _reference("change_order_line_items")
    tags: Mapped[list] = mapped_column(JSONDocument, default=list)
    related_to: Mapped[list] = mapped_column(JSONDocument, default=list)
    exif: Mapped[dict | None] = mapped_column(JSONDocument)
    is_video: Mapped[bool] = mapped_column(Boolean, default=False)
    client_id: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default=PhotoStatus.PENDING_UPLOAD.value)
    # Where the upload policy lets the client POST the file.
    key: Mapped[str] = mapped_column(String(255), unique=True)
    # Where the original lives once finalize has checked it: a key no policy names,
    # so what is served never changes. NULL while pending.
    original_key: Mapped[str | None] = mapped_column(String(300))
    # The resumable upload open for the file (photos/multipart.py): the store's upload id
    # (parts go to the original's key), the size declared and the part size chosen.
    multipart_upload_id: Mapped[str | None] = mapped_column(String(1024))
    multipart_size: Mapped[int | None] = mapped_column(BigInteger)
    multipart_part_size: Mapped[int | None] = mapped_column(BigInteger)
    content_type: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int | None] = mapped_column(BigInteger)
    etag: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    uploaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    location: Mapped[dict | None] = mapped_column(JSONDocument)
    processing_status: Mapped[str] = mapped_column(
        String(20), default=ProcessingStatus.QUEUED.value, index=True)
    processing_error: Mapped[str | None] = mapped_column(Text)
    location_error: Mapped[str | None] = mapped_column(Text)
    processing_attempts: Mapped[int] = mapped_column(default=0)
    # Outbox marker: when the work was last handed to the broker; NULL = not yet.
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    # The X-Request-ID of the request that queued the metadata work (the create), which
    # the sweep sends it again with; `media_request_id` (the finalize's) likewise.
    request_id: Mapped[str | None] = mapped_column(String(200))
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The file itself, read by the media worker.
    sha256: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int | None]
    height: Mapped[int | None]
    duration: Mapped[float | None]  # seconds, of a video (read from its container)
    captured_at_source: Mapped[str | None] = mapped_column(String(10))
    # {name: {"key", "width", "height"}} of the derivatives, once made.
    variants: Mapped[dict | None] = mapped_column(JSONDocument)
    media_status: Mapped[str] = mapped_column(
        String(20), default=MediaStatus.WAITING_UPLOAD.value, server_default=MediaStatus.WAITING_UPLOAD.value)
    media_error: Mapped[str | None] = mapped_column(Text)
    # What the media work skipped in the file while still processing it (short sentences).
    media_warnings: Mapped[list] = mapped_column(JSONDocument, default=list, server_default="[]")
    media_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # The media work's outbox marker, like dispatched_at.
    media_dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    media_request_id: Mapped[str | None] = mapped_column(String(200))
    media_processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When `photo.processed` was announced: set once, by whichever work finished last.
    processed_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_uploaded(self):
        return self.status == PhotoStatus.UPLOADED.value


#: Field name (in bodies, filters and the representation) -> column, for every
#: reference a photo can carry.
REFERENCES = {
    "job": Photo.job_id,
    "job_inspection_line_item": Photo.job_inspection_line_item_id,
    "estimate_line_item": Photo.estimate_line_item_id,
    "supplemental_line_item": Photo.supplemental_line_item_id,
    "change_order_line_item": Photo.change_order_line_item_id,
}


def _listing_index(name, *leading, where=None):
    """Uploaded photos in display order (migrations 0003 and 0013 create these per database)."""
    uploaded = Photo.status == PhotoStatus.UPLOADED.value
    return Index(name, *leading, Photo.captured_at.desc().nulls_last(), Photo.created_at.desc(),
                 Photo.id.desc(), postgresql_where=uploaded if where is None else uploaded & where)


_listing_index("ix_photos_listing", Photo.company_id)
_listing_index("ix_photos_job_listing", Photo.company_id, Photo.job_id)
_listing_index("ix_photos_creator_listing", Photo.created_by)
_listing_index("ix_photos_video_listing", Photo.company_id, where=Photo.is_video)
# The exact count of a company's uploaded photos reads this one: a seventh of the size.
Index("ix_photos_uploaded", Photo.company_id, postgresql_where=Photo.status == PhotoStatus.UPLOADED.value)
# The periodic purge of abandoned uploads looks for old pending photos only.
Index("ix_photos_pending_created", Photo.created_at,
      postgresql_where=Photo.status == PhotoStatus.PENDING_UPLOAD.value)
Index("ix_photos_media_unfinished", Photo.id,
      postgresql_where=Photo.media_status == MediaStatus.QUEUED.value)
# A company's fair share counts, and claims from, its queued media work (migration 0014).
Index("ix_photos_media_queued", Photo.company_id, Photo.media_dispatched_at,
      postgresql_where=Photo.media_status == MediaStatus.QUEUED.value)
#: Both kinds of a photo's work have finished (each either way).
WORK_DONE = (Photo.processing_status.in_([ProcessingStatus.PROCESSED.value, ProcessingStatus.FAILED.value])
             & Photo.media_status.in_([MediaStatus.PROCESSED.value, MediaStatus.FAILED.value]))
Index("ix_photos_processed_event_due", Photo.id,
      postgresql_where=Photo.processed_event_at.is_(None)
      & Photo.media_status.in_([MediaStatus.PROCESSED.value, MediaStatus.FAILED.value]))
Index("ix_photos_tags", Photo.tags, postgresql_using="gin", postgresql_ops={"tags": "jsonb_path_ops"},
      postgresql_where=Photo.status == PhotoStatus.UPLOADED.value)


class StoreDeletion(db.Model):
    """An object to remove from the store: the outbox of photo deletions.

    Written in the transaction that deletes the photo, so a photo never goes
    without its files being scheduled to go too; removed once the object is gone.
    A key may be listed twice (a late pass, a media task that raced the deletion).
    """

    __tablename__ = "store_deletions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(300))
    # A multipart upload of `key` to abort before the object is removed (its parts go with it).
    upload_id: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Not removed before this time (a late pass waits out the upload policy).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Outbox marker, like Photo.dispatched_at: NULL = not handed to the broker yet.
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The X-Request-ID of the request that deleted the photo, like Photo.request_id.
    request_id: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)

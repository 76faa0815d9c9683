"""The stored photo as JSON, without links: what the API's photo representation is
built on (`photos.schemas.PhotoSchema`) and what a webhook event carries as `data`.

No presigned URL is part of it: those expire, and an event may be read days later.
"""
from marshmallow import fields, validate

from ..database import columns_of
from ..serialization import FastDumpSchema
from .models import CapturedAtSource, MediaStatus, PhotoStatus, ProcessingStatus


class LocationSchema(FastDumpSchema):
    address = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    state = fields.String(allow_none=True)
    postal_code = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    country_code = fields.String(allow_none=True)
    display_name = fields.String(allow_none=True, metadata={"description": "The place in one line."})


class PhotoRecordSchema(FastDumpSchema):
    """Every stored field of a photo clients see; each is sent, null if unknown."""

    id = fields.Integer()
    name = fields.String()
    description = fields.String(allow_none=True)
    job = fields.Integer(attribute="job_id", allow_none=True)
    job_inspection_line_item = fields.Integer(attribute="job_inspection_line_item_id", allow_none=True)
    estimate_line_item = fields.Integer(attribute="estimate_line_item_id", allow_none=True)
    supplemental_line_item = fields.Integer(attribute="supplemental_line_item_id", allow_none=True)
    change_order_line_item = fields.Integer(attribute="change_order_line_item_id", allow_none=True)
    tags = fields.List(fields.String())
    related_to = fields.List(fields.String())
    exif = fields.Dict(allow_none=True)
    is_video = fields.Boolean()
    client_id = fields.String(allow_none=True)
    status = fields.String(validate=validate.OneOf([s.value for s in PhotoStatus]))
    created_by = fields.Integer()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    uploaded_at = fields.AwareDateTime(allow_none=True)
    captured_at = fields.AwareDateTime(allow_none=True)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    location = fields.Nested(LocationSchema, allow_none=True)
    key = fields.String()
    content_type = fields.String(allow_none=True)
    size = fields.Integer(allow_none=True)
    processing_status = fields.String(
        validate=validate.OneOf([s.value for s in ProcessingStatus]),
        metadata={"description": "Background work (capture date, location, job): "
                                 "queued, processing, processed or processing_failed."})
    processing_error = fields.String(allow_none=True, metadata={
        "description": "Why the background work failed for good, when it did."})
    location_error = fields.String(allow_none=True, metadata={
        "description": "Why the GPS data in exif could not be read, when it could not."})
    processed_at = fields.AwareDateTime(allow_none=True)
    width = fields.Integer(allow_none=True, metadata={
        "description": "Width as displayed (EXIF orientation, or a video's rotation, applied), "
                       "read from the file."})
    height = fields.Integer(allow_none=True, metadata={"description": "Height as displayed."})
    duration = fields.Float(allow_none=True, metadata={
        "description": "A video's length in seconds, read from the file; null for photos."})
    sha256 = fields.String(allow_none=True, metadata={"description": "SHA-256 of the stored file, hex."})
    captured_at_source = fields.String(
        allow_none=True, validate=validate.OneOf([s.value for s in CapturedAtSource]),
        metadata={"description": "Where captured_at came from: the client's exif or the file's own."})
    media_status = fields.String(
        validate=validate.OneOf([s.value for s in MediaStatus]),
        metadata={"description": "Work on the file itself (hash, dimensions, derivatives): "
                                 "waiting_upload, queued, processed or failed."})
    media_error = fields.String(allow_none=True, metadata={
        "description": "Why the file could not be processed, when it could not."})
    media_warnings = fields.List(fields.String(), metadata={
        "description": "Metadata in the file that was ignored, each a short stable sentence "
                       "(e.g. \"metadata ignored: EXIF block too large\"); the file itself "
                       "was processed. Empty when nothing was ignored."})


def photo_record(photo):
    """The photo (its ORM row) as a JSON-ready dict, as an event's `data` carries it;
    read, like every response, from a mapping of its stored columns."""
    return PhotoRecordSchema().dump(columns_of(photo))

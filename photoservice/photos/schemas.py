"""What clients send to and receive from the photo endpoints."""
import copy

import marshmallow as ma
from marshmallow import fields, validate

from ..derivatives import DERIVATIVES
from ..serialization import FastDumpSchema
from ..web.fields import EXIF_MAX_DEPTH, EXIF_MAX_ITEMS, Id, JSONObject, Text, sent_in_full
from . import cursors
from .representation import PhotoRecordSchema

# The earliest and latest capture times accepted, in Unix milliseconds. The lower
# bound (1973) also catches a timestamp sent in seconds by mistake.
EXIF_TIMESTAMP_RANGE = (100_000_000_000, 4_102_444_800_000)



def _validate_exif(exif):
    if "timestamp" not in exif:
        return
    stamp = exif["timestamp"]
    low, high = EXIF_TIMESTAMP_RANGE
    if isinstance(stamp, bool) or not isinstance(stamp, (int, float)) or not low <= stamp <= high:
        raise ma.ValidationError("timestamp must be a Unix time in milliseconds (a number).")


class PhotoCreateSchema(ma.Schema):
    """Photo creation payload: `name` is required, every other field optional."""

    name = Text(required=True, blank=False, validate=validate.Length(1, 150),
                metadata={"description": "Display name of the photo.", "example": "Front roof damage"})
    description = Text(allow_none=True, validate=validate.Length(max=10_000))
    job = Id(allow_none=True)
    job_inspection_line_item = Id(
        allow_none=True, metadata={"description": "Links the photo to the inspection's parent job."})
    estimate_line_item = Id(allow_none=True)
    supplemental_line_item = Id(allow_none=True)
    change_order_line_item = Id(allow_none=True)
    tags = fields.List(Text(blank=False, validate=validate.Length(1, 100)),
                       load_default=list, validate=validate.Length(max=100))
    related_to = fields.List(Text(validate=validate.Length(max=255)),
                             load_default=list, validate=validate.Length(max=25))
    exif = JSONObject(allow_none=True, validate=_validate_exif, metadata={
        "description": "EXIF metadata from the client. `timestamp` (Unix ms) sets the capture "
                       "date; GPS data is reverse-geocoded. At most "
                       f"{EXIF_MAX_DEPTH} levels deep and {EXIF_MAX_ITEMS} values; "
                       "no NUL characters in keys or text; numbers finite.",
        "properties": {"timestamp": {
            "type": "number", "description": "Capture time in Unix milliseconds.",
            "minimum": EXIF_TIMESTAMP_RANGE[0], "maximum": EXIF_TIMESTAMP_RANGE[1]}},
        "example": {"timestamp": 1732790400000, "GPSLatitude": 40.7128, "GPSLongitude": -74.006}})
    is_video = fields.Boolean(load_default=False)
    client_id = Text(allow_none=True, validate=validate.Length(1, 255), metadata={
        "description": "The client's id for an offline-created record; repeating a create "
                       "with it returns the same photo."})

    @ma.post_load
    def normalise(self, data, **kwargs):
        return normalised(data)


def normalised(data):
    """Names trimmed; tags a set: trimmed, first spelling kept, order preserved."""
    if "name" in data:
        data["name"] = data["name"].strip()
    if data.get("tags") is not None:
        data["tags"] = list(dict.fromkeys(tag.strip() for tag in data["tags"]))
    return data


#: What PATCH may change: the create's fields but the file's own (exif,
#: is_video) and the client's record id.
UPDATABLE = ("name", "description", "job", "job_inspection_line_item", "estimate_line_item",
             "supplemental_line_item", "change_order_line_item", "tags", "related_to")


def _as_update_field(name):
    """The create's field `name`, validated the same, for a partial update: optional,
    nothing filled in when absent, and for the lists `null` clears like `[]`."""
    field = copy.deepcopy(PhotoCreateSchema._declared_fields[name])
    field.required, field.load_default = False, ma.missing
    if isinstance(field, fields.List):
        field.allow_none = True
    return field


class PhotoUpdateSchema(ma.Schema.from_dict({name: _as_update_field(name) for name in UPDATABLE})):
    """A partial update: only the fields sent change; `null` clears one (`name` aside)."""

    @ma.post_load
    def normalise(self, data, **kwargs):
        for name in ("tags", "related_to"):
            if name in data and data[name] is None:
                data[name] = []
        return normalised(data)


class UploadPolicySchema(FastDumpSchema):
    url = fields.String(required=True, metadata={"description": "Form action for the upload."})
    fields = fields.Dict(keys=fields.String(), values=fields.String(), required=True,
                         metadata={"description": "Send each as a form field, then the file."})


@sent_in_full
class VariantSchema(FastDumpSchema):
    url = fields.String(metadata={"description": "Short-lived download link (presigned GET)."})
    width = fields.Integer()
    height = fields.Integer()


def _variant_fields():
    """One field per size of the derivatives table, in its order."""
    return {name: fields.Nested(VariantSchema, metadata={"description": f"JPEG fitting {longest}×{longest}."})
            for name, longest in DERIVATIVES.items()}


@sent_in_full
class VariantsSchema(FastDumpSchema.from_dict(_variant_fields())):
    """A link and the size of each derivative (photoservice/derivatives.py)."""


@sent_in_full
class PhotoSchema(PhotoRecordSchema):
    """The stored photo plus what a response adds (photos/presenter.py): links to its derivatives."""

    variants = fields.Nested(VariantsSchema, allow_none=True, metadata={
        "description": "Sized JPEG copies with no metadata; null until made."})


@sent_in_full
class PhotoDetailSchema(PhotoSchema):
    download_url = fields.String(allow_none=True, metadata={
        "description": "Short-lived download link; null until the photo is uploaded."})


@sent_in_full
class PhotoCreatedSchema(PhotoSchema):
    upload_url = fields.Nested(UploadPolicySchema, allow_none=True, metadata={
        "description": "S3 presigned POST; null once the photo is uploaded."})


class Cursor(fields.String):
    """A list cursor (photos/cursors.py): () for an empty one, the first page."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return cursors.decode(text) if text else ()
        except ValueError as error:
            raise ma.ValidationError(str(error)) from None


class PhotoListQuerySchema(ma.Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, 1_000_000))
    page_size = fields.Integer(load_default=10, validate=validate.Range(1, 100))
    job = Id(strict=False)
    job_inspection_line_item = Id(strict=False)
    estimate_line_item = Id(strict=False)
    supplemental_line_item = Id(strict=False)
    change_order_line_item = Id(strict=False)
    exclude_job_inspection_line_item = Id(strict=False)
    tags = fields.List(Text(validate=validate.Length(1, 100)), metadata={
        "description": "Repeat to require several tags: photos carrying every one are listed."})
    is_video = fields.Boolean()
    cursor = Cursor(metadata={
        "description": "Page by cursor rather than by number: empty for the first page, then "
                       "the `next_cursor` of the page before. Cursor pages carry no `count` (an "
                       "exact count reads every matching photo) and no `previous`; `page` is "
                       "ignored. A photo added or removed meanwhile shifts no other one."})


class PhotoPageSchema(FastDumpSchema):
    count = fields.Integer(required=True, allow_none=True, metadata={
        "description": "Photos matching the query; null on a cursor page."})
    next = fields.String(allow_none=True, required=True)
    previous = fields.String(allow_none=True, required=True)
    results = fields.List(fields.Nested(PhotoSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True, metadata={
        "description": "The `cursor` of the page after this one (null on the last page)."})


class MultipartStartSchema(ma.Schema):
    size = fields.Integer(required=True, strict=True, validate=validate.Range(min=1), metadata={
        "description": "The file's exact size in bytes: at most PHOTO_UPLOAD_MAX_BYTES for a "
                       "photo, VIDEO_UPLOAD_MAX_BYTES for a video.", "example": 400_000_000})


class MultipartUploadSchema(FastDumpSchema):
    upload_id = fields.String(required=True)
    part_size = fields.Integer(required=True, metadata={
        "description": "Bytes in every part but the last (at least 5 MiB)."})
    part_count = fields.Integer(required=True, metadata={"description": "Parts 1 to part_count."})
    expires_at = fields.DateTime(required=True, metadata={
        "description": "When an upload left unfinished is aborted (the photo's pending TTL)."})


class PartNumbersSchema(ma.Schema):
    part_numbers = fields.List(
        fields.Integer(strict=True, validate=validate.Range(1, 10_000)), required=True,
        validate=validate.Length(1, 100),
        metadata={"description": "Up to 100 part numbers, each within 1..part_count.", "example": [1, 2]})


class PartUrlSchema(FastDumpSchema):
    part_number = fields.Integer(required=True)
    url = fields.String(required=True, metadata={
        "description": "PUT the part's bytes here, expiring like upload policies."})
    size = fields.Integer(required=True, metadata={
        "description": "The part's exact length: signed into the URL where the store checks it."})
    headers = fields.Dict(keys=fields.String(), values=fields.String(), required=True, metadata={
        "description": "Headers to send with the PUT (none today: the body sets the length)."})


class PartUrlsSchema(FastDumpSchema):
    parts = fields.List(fields.Nested(PartUrlSchema), required=True)


class ReceivedPartSchema(FastDumpSchema):
    part_number = fields.Integer(required=True)
    size = fields.Integer(required=True)


class MultipartStatusSchema(FastDumpSchema):
    upload_id = fields.String(required=True)
    part_size = fields.Integer(required=True)
    part_count = fields.Integer(required=True)
    received = fields.List(fields.Nested(ReceivedPartSchema), required=True, metadata={
        "description": "The parts the store holds, from its own list: send the others."})

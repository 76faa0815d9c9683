"""What the OpenAPI document says beyond the schemas: error responses and examples.

Every error is sent as the `Error` schema (`errors.ErrorSchema`). Each error
status has one response component, named the way flask-smorest names them
(`BAD_REQUEST`, `UNAUTHORIZED`, ...), so the 400 that `@blp.arguments`
documents on its own gets the description below too. Views list the statuses
they can send with `@blp.error_responses(...)`.
"""
from http import HTTPStatus

from ..derivatives import DERIVATIVES, fitted
from .errors import ErrorSchema

RETRY_AFTER = {
    "description": "Seconds to wait before retrying.",
    "required": True,
    "schema": {"type": "integer", "minimum": 0},
}
WWW_AUTHENTICATE = {
    "description": "The scheme to authenticate with: `Bearer` (or the X-API-KEY header).",
    "required": True,
    "schema": {"type": "string"},
}

# Status -> (description, response headers).
ERROR_RESPONSES = {
    400: ("Invalid input: `errors` names each offending field and why.", {}),
    401: ("No API key, or an unknown or revoked one.", {"WWW-Authenticate": WWW_AUTHENTICATE}),
    403: ("The caller's role may not do this: webhooks are managed by owners only, and "
          "only a photo's creator renews its upload URL or uploads it in parts.", {}),
    404: ("No such object (photo, webhook endpoint, delivery) among those the caller may see; "
          "for a photo's multipart/ routes, also: no resumable upload is open.", {}),
    409: ("A state conflict. Finalize: the upload is not done (the file is not in the store, "
          "does not fit the upload policy, or is not a photo (JPEG, PNG, HEIC/HEIF, WebP) or "
          "video (MP4, QuickTime) whatever its Content-Type said; such a file is removed; the "
          "photo stays pending); with a resumable upload open, parts missing or of the wrong "
          "size (`missing_parts`, `wrong_size_parts`; the upload stays open to be fixed). Upload "
          "URL and multipart/: the photo is already uploaded; starting a resumable upload of "
          "another size than the one open (abort it first). Webhooks: the "
          "endpoint is disabled (redeliver), or the company has its maximum of endpoints (create).", {}),
    413: ("The request body is larger than the server accepts.", {}),
    415: ("The request body is not JSON (send Content-Type: application/json).", {}),
    429: ("Too many requests with this API key, or too many failed authentications from this "
          "address (then only unknown keys are refused; valid keys keep working): retry after "
          "`Retry-After` seconds.",
          {"Retry-After": RETRY_AFTER}),
    503: ("A backing service (the database, the object store) is down: retry after "
          "`Retry-After` seconds.",
          {"Retry-After": RETRY_AFTER}),
}


def response_name(status):
    """The response component documenting an error status, e.g. `NOT_FOUND`."""
    return HTTPStatus(status).name


def register_components(spec):
    """Add what the schemas refer to by name: the error responses."""
    register_error_responses(spec)


def register_error_responses(spec):
    """Describe each error status; replaces flask-smorest's bare components of the same name.

    Registered lazily, as flask-smorest registers its own, so only the statuses
    some operation uses appear in the document.
    """
    for status, (description, headers) in ERROR_RESPONSES.items():
        response = {"description": description,
                    "content": {"application/json": {"schema": ErrorSchema}}}
        if headers:
            response["headers"] = headers
        spec.components.response(response_name(status), response, lazy=True)


# The examples: the bodies sent, then the photo as each operation returns it.
CREATE_EXAMPLE = {
    "name": "Front roof damage",
    "description": "Hail damage above the porch.",
    "job_inspection_line_item": 12,
    "tags": ["hail", "front slope"],
    "related_to": ["claim 2024-117"],
    "exif": {"timestamp": 1732790400000, "GPSLatitude": 39.7817, "GPSLongitude": -89.6501},
    "is_video": False,
    "client_id": "3F2504E0-4F89-11D3-9A0C-0305E82C3301",
}

_PENDING_PHOTO = {
    "id": 42,
    "name": "Front roof damage",
    "description": "Hail damage above the porch.",
    "job": 7,
    "job_inspection_line_item": 12,
    "estimate_line_item": None,
    "supplemental_line_item": None,
    "change_order_line_item": None,
    "tags": ["hail", "front slope"],
    "related_to": ["claim 2024-117"],
    "exif": {"timestamp": 1732790400000, "GPSLatitude": 39.7817, "GPSLongitude": -89.6501},
    "is_video": False,
    "client_id": "3F2504E0-4F89-11D3-9A0C-0305E82C3301",
    "status": "pending_upload",
    "created_by": 3,
    "created_at": "2024-11-28T10:41:07.512000+00:00",
    "updated_at": "2024-11-28T10:41:07.512000+00:00",
    "uploaded_at": None,
    "captured_at": None,
    "latitude": None,
    "longitude": None,
    "location": None,
    "key": "front-roof-damage_a1b2c3d4.jpg",
    "content_type": None,
    "size": None,
    "processing_status": "queued",
    "processing_error": None,
    "location_error": None,
    "processed_at": None,
    "width": None,
    "height": None,
    "duration": None,
    "sha256": None,
    "captured_at_source": None,
    "media_status": "waiting_upload",
    "media_error": None,
    "media_warnings": [],
    "variants": None,
}

UPLOAD_POLICY_EXAMPLE = {
    "url": "https://s3.us-east-1.amazonaws.com/photos",
    "fields": {
        "Content-Type": "image/jpeg",
        "key": "front-roof-damage_a1b2c3d4.jpg",
        "x-amz-algorithm": "AWS4-HMAC-SHA256",
        "x-amz-credential": "AKIAIOSFODNN7EXAMPLE/20241128/us-east-1/s3/aws4_request",
        "x-amz-date": "20241128T104107Z",
        "policy": "eyJleHBpcmF0aW9uIjogIjIwMjQtMTEtMjhUMTE6NDE6MDdaIiwgLi4ufQ==",
        "x-amz-signature": "9f1c0c4d2e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f",
    },
}

CREATED_EXAMPLE = {**_PENDING_PHOTO, "upload_url": UPLOAD_POLICY_EXAMPLE}

# A PATCH: the crew tagged the wrong job; moving the line item moves the photo.
UPDATE_EXAMPLE = {
    "name": "Front slope, hail damage",
    "description": None,
    "job_inspection_line_item": 13,
    "tags": ["hail"],
}


def _variants_example(key, width, height):
    """The variants of a `width` x `height` photo stored at `key`: every size of the
    derivatives table, with its link (stored beside the original, as
    photos/object_keys.py names it) and its size."""
    return {name: {"url": f"https://s3.us-east-1.amazonaws.com/photos/{key}.{name}.jpg"
                          "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=900&...",
                   **dict(zip(("width", "height"), fitted((width, height), longest)))}
            for name, longest in DERIVATIVES.items()}


PHOTO_EXAMPLE = {
    **_PENDING_PHOTO,
    "status": "uploaded",
    "updated_at": "2024-11-28T10:41:09.220000+00:00",
    "uploaded_at": "2024-11-28T10:41:09.220000+00:00",
    "captured_at": "2024-11-28T10:40:00+00:00",
    "latitude": 39.7817,
    "longitude": -89.6501,
    "location": {
        "address": "12 Main Street", "city": "Springfield", "state": "Illinois",
        "postal_code": "62701", "country": "United States", "country_code": "us",
        "display_name": "12, Main Street, Springfield, Illinois, 62701, United States",
    },
    "content_type": "image/jpeg",
    "size": 2481152,
    "processing_status": "processed",
    "processed_at": "2024-11-28T10:41:10.034000+00:00",
    "width": 4032,
    "height": 3024,
    "sha256": "9b74c9897bac770ffc029102a200c5de9b2b5f6f0f5c1b6ec1e1d9a2c4c1f3e7",
    "captured_at_source": "client",
    "media_status": "processed",
}
PHOTO_EXAMPLE["variants"] = _variants_example(PHOTO_EXAMPLE["key"], PHOTO_EXAMPLE["width"],
                                              PHOTO_EXAMPLE["height"])

DETAIL_EXAMPLE = {
    **PHOTO_EXAMPLE,
    "download_url": "https://s3.us-east-1.amazonaws.com/photos/front-roof-damage_a1b2c3d4.jpg"
                    "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=900&X-Amz-Signature=...",
}

UPDATED_EXAMPLE = {
    **DETAIL_EXAMPLE,
    **UPDATE_EXAMPLE,
    "job": 8,
    "updated_at": "2024-11-28T11:02:45.118000+00:00",
}

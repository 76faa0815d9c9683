"""The store's multipart uploads: create, list the parts received, complete, abort, list
open uploads, and presigned PUTs for parts.

Plain functions over plain values, on storage's one client per process. The store
itself remembers which parts arrived (ListParts), so nobody else keeps track: a
client reads the list to resume, and completing an upload builds its part list
from it (a client never collects ETags).
"""
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app

from .sigv4 import part_signer
from .storage import _bucket, _credentials, _Missing, _store_call, client

#: Parts ListParts returns per page (S3's maximum), of at most 10,000.
PAGE = 1000


@dataclass(frozen=True)
class Part:
    number: int
    size: int
    etag: str


@dataclass(frozen=True)
class OpenUpload:
    key: str
    upload_id: str
    initiated: datetime


def create(key, content_type):
    """Open a multipart upload of `key`, stored as `content_type`; its upload id."""
    with _store_call("CREATE MULTIPART", key):
        return client().create_multipart_upload(Bucket=_bucket(), Key=key,
                                                ContentType=content_type)["UploadId"]


def parts(key, upload_id):
    """The parts the store has received for the upload, by number; None if the upload is gone
    (completed, aborted, or never there)."""
    found, marker = [], 0
    try:
        with _store_call("LIST PARTS", key):
            while True:
                page = client().list_parts(Bucket=_bucket(), Key=key, UploadId=upload_id,
                                           MaxParts=PAGE, PartNumberMarker=marker)
                found += [Part(part["PartNumber"], part["Size"], part["ETag"])
                          for part in page.get("Parts", [])]
                if not page.get("IsTruncated"):
                    break
                marker = page["NextPartNumberMarker"]
    except _Missing:
        return None
    return sorted(found, key=lambda part: part.number)


def complete(key, upload_id, received):
    """Join `received` (Parts, in order) into the object `key`. An upload already gone is
    no error here: the caller looks at the object (SeaweedFS, and S3 for a while, answer a
    repeated complete as the first)."""
    try:
        with _store_call("COMPLETE MULTIPART", key):
            client().complete_multipart_upload(
                Bucket=_bucket(), Key=key, UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": part.number, "ETag": part.etag}
                                           for part in received]})
    except _Missing:
        pass


def abort(key, upload_id):
    """Abort the upload and remove its parts; one already gone is no error."""
    try:
        with _store_call("ABORT MULTIPART", key):
            client().abort_multipart_upload(Bucket=_bucket(), Key=key, UploadId=upload_id)
    except _Missing:
        pass


def open_uploads(limit=10 * PAGE):
    """Up to `limit` multipart uploads open in the bucket, by key (OpenUploads).

    SeaweedFS leaves NextKeyMarker out of a truncated page and answers the next one
    empty: there, only the first PAGE are seen (a sweep's aborts make room for the rest).
    """
    found, markers = [], {}
    with _store_call("LIST MULTIPART", _bucket()):
        while len(found) < limit:
            page = client().list_multipart_uploads(Bucket=_bucket(), MaxUploads=PAGE, **markers)
            uploads = [OpenUpload(upload["Key"], upload["UploadId"], upload["Initiated"])
                       for upload in page.get("Uploads", [])]
            found += uploads
            if not (page.get("IsTruncated") and uploads):
                break
            markers = {"KeyMarker": page.get("NextKeyMarker") or uploads[-1].key,
                       "UploadIdMarker": page.get("NextUploadIdMarker") or uploads[-1].upload_id}
    return found[:limit]


def part_urls(key, upload_id):
    """(part_number, length) -> a presigned PUT of that part, valid for PHOTO_UPLOAD_EXPIRES
    seconds at the address phones reach; the length is signed (see sigv4.part_signer)."""
    config = current_app.config
    return part_signer(config["S3_PUBLIC_ENDPOINT_URL"], config["AWS_REGION"], _credentials(),
                       config["S3_BUCKET"], key, upload_id, config["PHOTO_UPLOAD_EXPIRES"],
                       datetime.now(timezone.utc))

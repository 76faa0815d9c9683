"""The S3 object store: upload policies, reads, writes, promotion and download URLs.

Plain functions over plain values. One boto3 client per process (creating
one costs ~110 ms), made lazily so forked workers never share a connection pool.
Upload policies and download URLs are signed by `sigv4` with the settings read here.
"""
import logging
import os
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from flask import current_app

from .errors import DependencyUnavailable
from .sigv4 import get_signer, presigned_post

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredObject:
    size: int
    content_type: str
    etag: str


@lru_cache(maxsize=8)
def _client(pid, endpoint_url, region, access_key, secret_key):
    # `pid` is part of the cache key: a forked child builds its own client.
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            connect_timeout=3,
            read_timeout=10,
            retries={"mode": "standard", "max_attempts": 2},
        ),
    )


def _credentials():
    """(access key, secret key), or DependencyUnavailable when they are not set."""
    config = current_app.config
    if not (config["AWS_ACCESS_KEY_ID"] and config["AWS_SECRET_ACCESS_KEY"]):
        log.error("AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set")
        raise DependencyUnavailable("The object store is not configured.")
    return config["AWS_ACCESS_KEY_ID"], config["AWS_SECRET_ACCESS_KEY"]


def client():
    """The store client, at the address the service reaches the store by."""
    config = current_app.config
    return _client(os.getpid(), config["S3_ENDPOINT_URL"], config["AWS_REGION"], *_credentials())


def upload_policy(key, content_type, media):
    """A presigned POST for exactly `key`: size-capped, `media/*` only, expiring.

    `content_type` is sent as a form field so a client that posts every field
    as given succeeds; the policy still admits any `media/` subtype.
    """
    config = current_app.config
    return presigned_post(
        config["S3_PUBLIC_ENDPOINT_URL"], config["AWS_REGION"], _credentials(), config["S3_BUCKET"],
        key, {"Content-Type": content_type},
        [["content-length-range", 1, config["PHOTO_UPLOAD_MAX_BYTES"]],
         ["starts-with", "$Content-Type", f"{media}/"]],
        config["PHOTO_UPLOAD_EXPIRES"], datetime.now(timezone.utc))


class _Missing(Exception):
    """The object is not in the store."""


class ObjectChanged(Exception):
    """The object is no longer the version a request was conditional on (its ETag)."""


@contextmanager
def _store_call(action, key):
    """Run one store request: a missing object raises _Missing, a failed ETag condition
    ObjectChanged, an outage DependencyUnavailable."""
    try:
        yield
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = error.response.get("Error", {}).get("Code")
        if status == 404 or code in ("404", "NoSuchKey"):
            raise _Missing(key) from None
        if status == 412 or code == "PreconditionFailed":
            raise ObjectChanged(key) from None
        log.error("object store refused %s %s: %s", action, key, error)
        raise DependencyUnavailable("The object store is unavailable; try again shortly.") from error
    except BotoCoreError as error:  # unreachable, timed out, a body cut off mid-stream
        log.error("object store unreachable for %s %s: %s", action, key, error)
        raise DependencyUnavailable("The object store is unavailable; try again shortly.") from error


def _bucket():
    return current_app.config["S3_BUCKET"]


def stat_object(key):
    """Size, type and ETag of a stored object, or None if it is not there."""
    try:
        with _store_call("HEAD", key):
            head = client().head_object(Bucket=_bucket(), Key=key)
    except _Missing:
        return None
    return StoredObject(
        size=head["ContentLength"],
        content_type=head.get("ContentType", ""),
        etag=head.get("ETag", "").strip('"'),
    )


def read_head(key, length, etag):
    """The first `length` bytes of the stored object's version `etag` (a ranged GET), or
    None if it is not there; ObjectChanged if another version has replaced it."""
    try:
        with _store_call("GET", key):
            return client().get_object(Bucket=_bucket(), Key=key, IfMatch=f'"{etag}"',
                                       Range=f"bytes=0-{length - 1}")["Body"].read(length)
    except _Missing:
        return None


def promote(source, target, etag, content_type):
    """Copy version `etag` of `source` to `target` inside the store (CopyObject), served as
    `content_type`; ObjectChanged if `source` is no longer that version, or is gone.

    Only the type goes with it: whatever else the upload carried (a Content-Disposition,
    Content-Encoding or Cache-Control a store let a POST set) stays behind. The copy
    stays in the store: SeaweedFS answers for 100 MiB in ~0.3 s, well within read_timeout.
    """
    try:
        with _store_call("COPY", source):
            client().copy_object(Bucket=_bucket(), Key=target,
                                 CopySource={"Bucket": _bucket(), "Key": source},
                                 CopySourceIfMatch=f'"{etag}"', MetadataDirective="REPLACE",
                                 ContentType=content_type)
    except _Missing:
        raise ObjectChanged(source) from None


def open_object(key, chunk_size=1 << 20):
    """(size, chunks) of a stored object, or None if it is not there: `chunks` yields its
    body as it arrives and raises DependencyUnavailable if the transfer fails on the way."""
    try:
        with _store_call("GET", key):
            response = client().get_object(Bucket=_bucket(), Key=key)
    except _Missing:
        return None
    return response["ContentLength"], _chunks(key, response["Body"], chunk_size)


def _chunks(key, body, chunk_size):
    with _store_call("GET", key):
        yield from body.iter_chunks(chunk_size)


def put_object(key, data, content_type):
    """Store `data` (bytes) under `key`."""
    with _store_call("PUT", key):
        client().put_object(Bucket=_bucket(), Key=key, Body=data, ContentType=content_type)


@lru_cache(maxsize=2)
def _uploader(pid):
    # `pid` is part of the cache key: a forked child starts threads of its own.
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="store-put")


@contextmanager
def storing():
    """Within: `put(key, data, content_type)` starts storing an object and returns at
    once, so the caller goes on (making the next derivative) while it is sent; objects
    are stored side by side (the client is thread safe). The block
    ends once every write has ended; then the first failure is raised (DependencyUnavailable
    for an outage), unless the block itself raised: its own error goes on. No write
    outlives the block."""
    app, futures = current_app._get_current_object(), []

    def stored(*item):
        with app.app_context():
            put_object(*item)

    try:
        yield lambda *item: futures.append(_uploader(os.getpid()).submit(stored, *item))
    finally:
        wait(futures)
    for future in futures:
        future.result()


def delete_objects(keys):
    """Remove objects; one that is already gone is no error."""
    for key in keys:
        try:
            with _store_call("DELETE", key):
                client().delete_object(Bucket=_bucket(), Key=key)
        except _Missing:
            pass


def download_url(key):
    """A presigned GET for a stored object, valid for PHOTO_DOWNLOAD_EXPIRES seconds,
    at the address phones reach (what botocore's generate_presigned_url makes)."""
    return download_signer()(key)


def download_signer():
    """(key, content_type=None) -> download_url(key), with the settings, the credentials and
    the signing time read once: for a page that signs two links per photo. A content type
    given is the one the store answers with (response-content-type), whatever the object says."""
    config = current_app.config
    return get_signer(config["S3_PUBLIC_ENDPOINT_URL"], config["AWS_REGION"], _credentials(),
                      config["S3_BUCKET"], config["PHOTO_DOWNLOAD_EXPIRES"], datetime.now(timezone.utc))


def check_bucket():
    """Raise unless the store answers and the bucket exists (readiness probe)."""
    client().head_bucket(Bucket=current_app.config["S3_BUCKET"])


def put_bucket_cors(configuration):
    """Replace the bucket's CORS rules with `configuration` (S3 PutBucketCors)."""
    with _store_call("PutBucketCors", _bucket()):
        client().put_bucket_cors(Bucket=_bucket(), CORSConfiguration=configuration)

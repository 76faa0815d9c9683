"""storage.download_url against a real S3 store (SeaweedFS), and both signed forms (download
URLs, upload policies) against botocore's own."""
import base64
import json
import secrets
import time
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlsplit

import boto3
import botocore.auth
import botocore.signers
import pytest
import requests
from botocore.config import Config

from photoservice import sigv4, storage


@pytest.fixture
def stored(app):
    """`stored(key)` → random bytes put in the store under `key`."""
    def put(key):
        content = secrets.token_bytes(2048)
        with app.app_context():
            storage.put_object(key, content, "image/jpeg")
        return content
    return put


def download_url(app, key):
    with app.app_context():
        return storage.download_url(key)


def with_query(url, **changes):
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query), **changes)
    return parts._replace(query="&".join(f"{name}={value}" for name, value in query.items())).geturl()


def test_download_url_fetches_the_object(app, stored):
    content = stored("ridge_a1b2c3d4.jpg.web.jpg")
    fetched = requests.get(download_url(app, "ridge_a1b2c3d4.jpg.web.jpg"), timeout=10)
    assert fetched.status_code == 200 and fetched.content == content


def test_download_url_of_a_key_that_needs_quoting(app, stored):
    key = "dir/Ünïcode name+1 (2)~.jpg"
    content = stored(key)
    fetched = requests.get(download_url(app, key), timeout=10)
    assert fetched.status_code == 200 and fetched.content == content


def test_a_tampered_signature_or_another_key_is_refused(app, stored):
    stored("ridge_a1b2c3d4.jpg")
    stored("other_a1b2c3d4.jpg")
    url = download_url(app, "ridge_a1b2c3d4.jpg")
    signature = dict(parse_qsl(urlsplit(url).query))["X-Amz-Signature"]
    forged = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    assert requests.get(with_query(url, **{"X-Amz-Signature": forged}), timeout=10).status_code == 403
    assert requests.get(url.replace("ridge_", "other_"), timeout=10).status_code == 403
    assert requests.get(with_query(url, **{"X-Amz-Expires": "86400"}), timeout=10).status_code == 403
    assert requests.get(with_query(url), timeout=10).status_code == 200  # rebuilt, unchanged


def test_a_download_is_answered_as_the_type_signed_into_it(app, stored):
    content = stored("ridge_a1b2c3d4.jpg")  # stored as image/jpeg
    with app.app_context():
        sign = storage.download_signer()
        plain, as_png = sign("ridge_a1b2c3d4.jpg"), sign("ridge_a1b2c3d4.jpg", "image/png")
    assert requests.get(plain, timeout=10).headers["Content-Type"] == "image/jpeg"
    fetched = requests.get(as_png, timeout=10)
    assert fetched.content == content and fetched.headers["Content-Type"] == "image/png"
    # The type is part of the signature: another one is refused.
    assert requests.get(as_png.replace("image%2Fpng", "text%2Fhtml"), timeout=10).status_code == 403


def test_promote_copies_the_version_it_names_with_the_given_type_alone(app):
    with app.app_context():
        storage.client().put_object(Bucket=app.config["S3_BUCKET"], Key="up_a1b2c3d4.jpg", Body=b"first",
                                    ContentType="image/svg+xml", ContentDisposition="attachment",
                                    Metadata={"note": "from the client"})
        first = storage.stat_object("up_a1b2c3d4.jpg")
        assert storage.read_head("up_a1b2c3d4.jpg", 3, first.etag) == b"fir"
        storage.put_object("up_a1b2c3d4.jpg", b"second", "image/png")  # a re-POST
        with pytest.raises(storage.ObjectChanged):
            storage.read_head("up_a1b2c3d4.jpg", 3, first.etag)
        with pytest.raises(storage.ObjectChanged):
            storage.promote("up_a1b2c3d4.jpg", "up_a1b2c3d4.jpg.original.jpg", first.etag, "image/jpeg")
        assert storage.stat_object("up_a1b2c3d4.jpg.original.jpg") is None
        with pytest.raises(storage.ObjectChanged):  # a source that is gone
            storage.promote("gone_a1b2c3d4.jpg", "gone_a1b2c3d4.jpg.original.jpg", first.etag, "image/jpeg")

        second = storage.stat_object("up_a1b2c3d4.jpg")
        storage.promote("up_a1b2c3d4.jpg", "up_a1b2c3d4.jpg.original.jpg", second.etag, "image/jpeg")
        head = storage.client().head_object(Bucket=app.config["S3_BUCKET"], Key="up_a1b2c3d4.jpg.original.jpg")
    assert head["ContentType"] == "image/jpeg" and head["ETag"].strip('"') == second.etag
    assert "ContentDisposition" not in head and head["Metadata"] == {}


def test_download_url_expires(app, stored, monkeypatch):
    stored("ridge_a1b2c3d4.jpg")
    monkeypatch.setitem(app.config, "PHOTO_DOWNLOAD_EXPIRES", 1)
    url = download_url(app, "ridge_a1b2c3d4.jpg")
    assert dict(parse_qsl(urlsplit(url).query))["X-Amz-Expires"] == "1"
    time.sleep(2)
    refused = requests.get(url, timeout=10)
    assert refused.status_code == 403 and b"expired" in refused.content.lower()


def botocore_url(endpoint, region, credentials, bucket, key, expires, content_type=None):
    params = {"Bucket": bucket, "Key": key}
    if content_type is not None:
        params["ResponseContentType"] = content_type
    return botocore_client(endpoint, region, credentials).generate_presigned_url(
        "get_object", Params=params, ExpiresIn=expires)


@pytest.mark.parametrize("endpoint", [
    "http://127.0.0.1:8333", "https://s3.eu-west-1.amazonaws.com", "https://store.example.com:443",
    "http://[::1]:9000", "https://Store.Example.com:8443",
])
@pytest.mark.parametrize("key", ["ridge_a1b2c3d4.jpg", "ridge_a1b2c3d4.jpg.thumbnail.jpg",
                                 "dir/Ünïcode name+1 (2)~!*'&=?.jpg"])
@pytest.mark.parametrize("content_type", [None, "image/jpeg", "image/x+y; a=b"])
def test_presigned_get_is_what_botocore_signs(endpoint, key, content_type):
    credentials = ("AKIDEXAMPLE" + secrets.token_hex(4).upper(), secrets.token_urlsafe(30))
    region = "eu-west-1" if "eu-west-1" in endpoint else "us-east-1"
    theirs = urlsplit(botocore_url(endpoint, region, credentials, "photos", key, 900, content_type))
    signed_at = datetime.strptime(dict(parse_qsl(theirs.query))["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    ours = urlsplit(sigv4.presigned_get(endpoint, region, credentials, "photos", key, 900,
                                          signed_at.replace(tzinfo=timezone.utc), content_type))
    assert (ours.scheme, ours.netloc, ours.path) == (theirs.scheme, theirs.netloc, theirs.path)
    assert dict(parse_qsl(ours.query)) == dict(parse_qsl(theirs.query))


def botocore_client(endpoint, region, credentials):
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, region_name=region, aws_access_key_id=credentials[0],
        aws_secret_access_key=credentials[1],
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))


@pytest.mark.parametrize("endpoint", [
    "http://127.0.0.1:8333", "https://s3.eu-west-1.amazonaws.com", "https://store.example.com:443",
    "http://[::1]:9000", "https://Store.Example.com:8443/s3/",
])
@pytest.mark.parametrize("key, media", [("ridge_a1b2c3d4.jpg", "image"), ("walk_0f0f0f0f.mp4", "video"),
                                        ("dir/Ünïcode name+1 (2)~!*'&=?.jpg", "image")])
def test_presigned_post_is_what_botocore_signs(endpoint, key, media, monkeypatch):
    signed_at = datetime(2026, 11, 28, 23, 59, 59, tzinfo=timezone.utc)
    for module in (botocore.signers, botocore.auth):  # botocore reads the clock twice
        monkeypatch.setattr(module, "get_current_datetime", lambda: signed_at.replace(tzinfo=None))
    credentials = ("AKIDEXAMPLE" + secrets.token_hex(4).upper(), secrets.token_urlsafe(30))
    region = "eu-west-1" if "eu-west-1" in endpoint else "us-east-1"
    fields = {"Content-Type": f"{media}/jpeg"}
    conditions = [["content-length-range", 1, 104857600], ["starts-with", "$Content-Type", f"{media}/"]]
    theirs = botocore_client(endpoint, region, credentials).generate_presigned_post(
        "photos", key, Fields=fields, Conditions=conditions, ExpiresIn=86400)
    ours = sigv4.presigned_post(endpoint, region, credentials, "photos", key, fields, conditions,
                                  86400, signed_at)
    assert ours == theirs
    policy = json.loads(base64.b64decode(ours["fields"]["policy"]))
    assert policy["expiration"] == "2026-11-29T23:59:59Z"
    assert {"key": key} in policy["conditions"] and {"bucket": "photos"} in policy["conditions"]

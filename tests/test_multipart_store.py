"""Presigned part PUTs (sigv4.part_signer) held to botocore's own, and the store's
multipart calls against SeaweedFS."""
import secrets
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from photoservice import multipart_store, sigv4
from tests.test_storage import botocore_client


@pytest.mark.parametrize("endpoint", [
    "http://127.0.0.1:8333", "https://s3.eu-west-1.amazonaws.com", "https://store.example.com:443",
    "http://[::1]:9000", "https://Store.Example.com:8443",
])
@pytest.mark.parametrize("key", ["ridge_a1b2c3d4.jpg.original.jpg", "dir/Ünïcode name+1 (2)~!*'&=?.mp4"])
@pytest.mark.parametrize("upload_id", [
    "e7e8815a485e1d8dcdf18524df66e850bc6cc8c3_f7bc7f1104494db4948e7f6ed755fc31",
    "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA.-_~x+/=="])
@pytest.mark.parametrize("part_number, length", [(1, 8388608), (10000, 1)])
def test_part_put_is_what_botocore_signs(endpoint, key, upload_id, part_number, length):
    credentials = ("AKIDEXAMPLE" + secrets.token_hex(4).upper(), secrets.token_urlsafe(30))
    region = "eu-west-1" if "eu-west-1" in endpoint else "us-east-1"
    theirs = botocore_client(endpoint, region, credentials).generate_presigned_url(
        "upload_part", Params={"Bucket": "photos", "Key": key, "UploadId": upload_id,
                               "PartNumber": part_number, "ContentLength": length}, ExpiresIn=3600)
    signed_at = datetime.strptime(dict(parse_qsl(urlsplit(theirs).query))["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    sign = sigv4.part_signer(endpoint, region, credentials, "photos", key, upload_id, 3600,
                             signed_at.replace(tzinfo=timezone.utc))
    assert sign(part_number, length) == theirs


def test_the_store_lists_completes_and_aborts(app):
    key = f"check_{secrets.token_hex(4)}.jpg.original.jpg"
    with app.app_context():
        upload_id = multipart_store.create(key, "image/jpeg")
        assert multipart_store.parts(key, upload_id) == []
        url = multipart_store.part_urls(key, upload_id)(1, 3)
        assert requests.put(url, data=b"abc", timeout=10).status_code == 200
        [part] = multipart_store.parts(key, upload_id)
        assert (part.number, part.size) == (1, 3)
        assert any(u.upload_id == upload_id for u in multipart_store.open_uploads())
        multipart_store.complete(key, upload_id, [part])
        assert multipart_store.parts(key, upload_id) is None  # completed: gone
        multipart_store.complete(key, upload_id, [part])  # again: no error
        multipart_store.abort(key, upload_id)  # gone already: no error
        stored = multipart_store.client().get_object(Bucket=app.config["S3_BUCKET"], Key=key)
        assert stored["Body"].read() == b"abc"


def test_open_uploads_are_listed_page_after_page(app, monkeypatch):
    """Pages of 2: S3 gives every upload; SeaweedFS only its first page (see open_uploads)."""
    monkeypatch.setattr(multipart_store, "PAGE", 2)
    key = f"paged_{secrets.token_hex(4)}.jpg.original.jpg"
    with app.app_context():
        opened = [multipart_store.create(key, "image/jpeg") for _ in range(5)]
        try:
            assert len(multipart_store.open_uploads()) >= 2
            assert len(multipart_store.open_uploads(limit=1)) == 1
        finally:
            for upload_id in opened:
                multipart_store.abort(key, upload_id)

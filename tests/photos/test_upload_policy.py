"""The presigned POST, enforced by the store itself (SeaweedFS, not a mock)."""
import time

import pytest

from tests.conftest import UPLOAD_MAX_BYTES
from tests.support import upload

JPEG = b"\xff\xd8\xff\xe0" + b"1" * 2000


def stored(s3_store, key):
    try:
        s3_store.client().head_object(Bucket=s3_store.bucket, Key=key)
        return True
    except s3_store.client().exceptions.ClientError:
        return False


def test_valid_file_is_stored(as_user, s3_store):
    photo = as_user("crew").create(name="Ridge")
    assert upload(photo["upload_url"], JPEG).status_code == 204
    body = s3_store.client().get_object(Bucket=s3_store.bucket, Key=photo["key"])["Body"].read()
    assert body == JPEG


def test_policy_pins_key_size_type_and_expiry(as_user):
    import base64
    import json
    photo = as_user("crew").create(name="Ridge")
    policy = json.loads(base64.b64decode(photo["upload_url"]["fields"]["policy"]))
    assert {"key": photo["key"]} in policy["conditions"]
    assert ["content-length-range", 1, UPLOAD_MAX_BYTES] in policy["conditions"]
    assert ["starts-with", "$Content-Type", "image/"] in policy["conditions"]
    assert policy["expiration"]


def test_store_rejects_oversize_file(as_user, s3_store):
    photo = as_user("crew").create(name="Big")
    response = upload(photo["upload_url"], b"\xff" * (UPLOAD_MAX_BYTES + 1))
    assert response.status_code == 400
    assert not stored(s3_store, photo["key"])


def test_store_rejects_another_key(as_user, s3_store):
    photo = as_user("crew").create(name="Ridge")
    response = upload(photo["upload_url"], JPEG, fields={"key": "someone-elses_00000000.jpg"})
    assert response.status_code == 403
    assert not stored(s3_store, "someone-elses_00000000.jpg")


@pytest.mark.parametrize("content_type", ["text/html", "application/octet-stream", "video/mp4"])
def test_store_rejects_non_image_content_type(as_user, s3_store, content_type):
    photo = as_user("crew").create(name="Ridge")
    response = upload(photo["upload_url"], JPEG, fields={"Content-Type": content_type})
    assert response.status_code == 403
    assert not stored(s3_store, photo["key"])


def test_other_image_subtypes_are_accepted(as_user, s3_store):
    photo = as_user("crew").create(name="Ridge")
    response = upload(photo["upload_url"], JPEG, fields={"Content-Type": "image/png"})
    assert response.status_code == 204


def test_video_policy_rejects_images(as_user, s3_store):
    photo = as_user("crew").create(name="Walkaround", is_video=True)
    assert upload(photo["upload_url"], JPEG, fields={"Content-Type": "image/jpeg"}).status_code == 403
    assert upload(photo["upload_url"], b"\x00\x00\x00\x18ftypmp42").status_code == 204


def test_store_rejects_an_expired_policy(app, as_user, s3_store, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_UPLOAD_EXPIRES", 1)
    photo = as_user("crew").create(name="Late")
    time.sleep(2.1)
    assert upload(photo["upload_url"], JPEG).status_code == 403
    assert not stored(s3_store, photo["key"])

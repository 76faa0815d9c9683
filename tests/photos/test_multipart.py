"""Resumable uploads (S3 multipart through presigned part URLs) against SeaweedFS: start,
part URLs, the store's own list of parts, abort, and finalize completing the upload."""
import time

import pytest
import requests

from photoservice import multipart_store
from photoservice.photos.object_keys import original_key
from photoservice.photos.upload_parts import MIN_PART_SIZE
from photoservice.processing import media
from tests.media.images import jpeg
from tests.support import JPEG_STUB, MP4_STUB, in_another_thread, in_store, load_photo, upload

PART = MIN_PART_SIZE


def start(caller, photo_id, size):
    return caller.client.post(f"/light/photos/{photo_id}/multipart/", json={"size": size},
                              headers=caller.headers)


def part_urls(caller, photo_id, numbers):
    return caller.client.post(f"/light/photos/{photo_id}/multipart/parts/",
                              json={"part_numbers": numbers}, headers=caller.headers)


def status(caller, photo_id):
    return caller.get(f"/light/photos/{photo_id}/multipart/")


def abort(caller, photo_id):
    return caller.client.delete(f"/light/photos/{photo_id}/multipart/", headers=caller.headers)


def send(caller, photo_id, content, numbers):
    """PUT parts `numbers` of `content` to fresh part URLs; their statuses."""
    response = part_urls(caller, photo_id, numbers)
    assert response.status_code == 200, response.get_json()
    statuses = []
    for part in response.get_json()["parts"]:
        start_at = (part["part_number"] - 1) * PART
        body = content[start_at:start_at + part["size"]]
        statuses.append(requests.put(part["url"], data=body, headers=part["headers"], timeout=60).status_code)
    return statuses


def large_jpeg(size):
    """A real JPEG of exactly `size` bytes: a picture, then padding after its end marker."""
    picture = jpeg(800, 600)
    return picture + b"\0" * (size - len(picture))


@pytest.fixture
def large_photos(app, monkeypatch):
    """Photos up to 40 MiB: room for a file of several parts."""
    monkeypatch.setitem(app.config, "PHOTO_UPLOAD_MAX_BYTES", 40 * 1024 * 1024)


def open_uploads(app):
    with app.app_context():
        return {(upload.key, upload.upload_id) for upload in multipart_store.open_uploads()}


def test_a_resumed_upload_is_finalized_and_processed(app, as_user, large_photos):
    crew = as_user("crew")
    content = large_jpeg(2 * PART + 12_345)
    photo = crew.create(name="Walkaround.jpg")
    started = start(crew, photo["id"], len(content))
    assert started.status_code == 201, started.get_json()
    upload_info = started.get_json()
    assert upload_info["part_size"] == PART and upload_info["part_count"] == 3
    assert upload_info["expires_at"] > photo["created_at"]

    urls = part_urls(crew, photo["id"], [1, 2, 3]).get_json()["parts"]
    assert [(p["part_number"], p["size"], p["headers"]) for p in urls] == \
        [(1, PART, {}), (2, PART, {}), (3, 12_345, {})]
    # The connection drops after the first part; the app is killed and comes back.
    assert send(crew, photo["id"], content, [1]) == [200]
    resumed = status(crew, photo["id"])
    assert resumed.status_code == 200
    assert resumed.get_json() == {"upload_id": upload_info["upload_id"], "part_size": PART,
                                  "part_count": 3, "received": [{"part_number": 1, "size": PART}]}
    assert send(crew, photo["id"], content, [2, 3]) == [200, 200]
    assert [p["part_number"] for p in status(crew, photo["id"]).get_json()["received"]] == [1, 2, 3]

    finalized = crew.finalize(photo["id"])
    assert finalized.status_code == 200, finalized.get_json()
    assert finalized.get_json()["size"] == len(content) and finalized.get_json()["status"] == "uploaded"
    stored = load_photo(app, photo["id"])
    assert stored.original_key == original_key(photo["key"]) and stored.multipart_upload_id is None
    assert stored.content_type == "image/jpeg"
    # Completed where the original lives: nothing copied, nothing at the upload key.
    assert in_store(app, stored.original_key) and not in_store(app, photo["key"])
    download = requests.get(crew.get(f"/light/photos/{photo['id']}/").get_json()["download_url"], timeout=30)
    assert download.content == content
    with app.app_context():
        media.process_media(photo["id"])
    processed = load_photo(app, photo["id"])
    assert processed.media_status == "processed" and (processed.width, processed.height) == (800, 600)

    # The upload id is gone: an old part URL overwrites nothing, and no new one is issued.
    assert requests.put(urls[0]["url"], data=content[:PART], timeout=60).status_code == 404
    assert status(crew, photo["id"]).status_code == 409
    assert part_urls(crew, photo["id"], [1]).status_code == 409
    assert crew.finalize(photo["id"]).get_json()["size"] == len(content)


def test_starting_again_returns_the_open_upload_until_aborted(app, as_user):
    crew = as_user("crew")
    photo = crew.create()
    first = start(crew, photo["id"], 5000)
    assert first.status_code == 201 and first.get_json()["part_count"] == 1
    again = start(crew, photo["id"], 5000)
    assert again.status_code == 200 and again.get_json() == first.get_json()
    other = start(crew, photo["id"], 6000)
    assert other.status_code == 409 and "abort" in other.get_json()["message"]
    assert abort(crew, photo["id"]).status_code == 204
    restarted = start(crew, photo["id"], 6000)
    assert restarted.status_code == 201
    assert restarted.get_json()["upload_id"] != first.get_json()["upload_id"]


def test_finalize_names_a_missing_part_and_leaves_the_upload_open(app, as_user, large_photos):
    crew = as_user("crew")
    content = large_jpeg(2 * PART + 10)
    photo = crew.create()
    start(crew, photo["id"], len(content))
    assert send(crew, photo["id"], content, [1, 3]) == [200, 200]
    refused = crew.finalize(photo["id"])
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["missing_parts"] == [2] and body["wrong_size_parts"] == []
    assert body["code"] == 409 and body["message"]
    assert load_photo(app, photo["id"]).status == "pending_upload"
    assert len(status(crew, photo["id"]).get_json()["received"]) == 2  # still open
    assert send(crew, photo["id"], content, [2]) == [200]
    assert crew.finalize(photo["id"]).status_code == 200


def test_a_part_url_takes_only_its_exact_length(app, as_user, large_photos):
    """SeaweedFS, like S3, checks the signed Content-Length: another length is refused."""
    crew = as_user("crew")
    photo = crew.create()
    start(crew, photo["id"], PART + 100)
    part = part_urls(crew, photo["id"], [2]).get_json()["parts"][0]
    assert part["size"] == 100
    for body in (b"x" * 99, b"x" * 101):
        assert requests.put(part["url"], data=body, timeout=30).status_code == 403
    assert status(crew, photo["id"]).get_json()["received"] == []


def test_finalize_names_a_part_of_the_wrong_size(app, as_user, large_photos):
    """A store that did not check the signed length (or a part sent another way): finalize does."""
    crew = as_user("crew")
    content = large_jpeg(PART + 100)
    photo = crew.create()
    upload_id = start(crew, photo["id"], len(content)).get_json()["upload_id"]
    assert send(crew, photo["id"], content, [1]) == [200]
    with app.app_context():
        multipart_store.client().upload_part(
            Bucket=app.config["S3_BUCKET"], Key=original_key(photo["key"]), UploadId=upload_id,
            PartNumber=2, Body=b"y" * 50)
    refused = crew.finalize(photo["id"])
    assert refused.status_code == 409
    assert (refused.get_json()["missing_parts"], refused.get_json()["wrong_size_parts"]) == ([], [2])
    assert status(crew, photo["id"]).status_code == 200


def test_an_expired_part_url_is_renewed(app, as_user, monkeypatch):
    crew = as_user("crew")
    photo = crew.create()
    start(crew, photo["id"], len(JPEG_STUB))
    monkeypatch.setitem(app.config, "PHOTO_UPLOAD_EXPIRES", 1)
    expired = part_urls(crew, photo["id"], [1]).get_json()["parts"][0]
    time.sleep(2)
    assert requests.put(expired["url"], data=JPEG_STUB, timeout=30).status_code == 403
    monkeypatch.setitem(app.config, "PHOTO_UPLOAD_EXPIRES", 3600)
    fresh = part_urls(crew, photo["id"], [1]).get_json()["parts"][0]
    assert fresh["url"] != expired["url"]
    assert requests.put(fresh["url"], data=JPEG_STUB, timeout=30).status_code == 200
    assert crew.finalize(photo["id"]).get_json()["size"] == len(JPEG_STUB)


def test_abort_removes_the_upload_and_the_photo_stays_pending(app, as_user):
    crew = as_user("crew")
    photo = crew.create()
    upload_id = start(crew, photo["id"], len(JPEG_STUB)).get_json()["upload_id"]
    part = part_urls(crew, photo["id"], [1]).get_json()["parts"][0]
    assert requests.put(part["url"], data=JPEG_STUB, timeout=30).status_code == 200
    assert abort(crew, photo["id"]).status_code == 204
    assert (original_key(photo["key"]), upload_id) not in open_uploads(app)
    assert status(crew, photo["id"]).status_code == 404
    assert abort(crew, photo["id"]).status_code == 404
    assert part_urls(crew, photo["id"], [1]).status_code == 404
    assert requests.put(part["url"], data=JPEG_STUB, timeout=30).status_code == 404
    assert load_photo(app, photo["id"]).status == "pending_upload"
    # The presigned POST still works for it.
    assert upload(crew.renew_upload_url(photo["id"]).get_json(), JPEG_STUB).status_code == 204
    assert crew.finalize(photo["id"]).status_code == 200


def test_a_finalized_file_of_another_kind_is_removed_and_the_upload_forgotten(app, as_user):
    crew = as_user("crew")
    photo = crew.create()
    start(crew, photo["id"], 100)
    part = part_urls(crew, photo["id"], [1]).get_json()["parts"][0]
    assert requests.put(part["url"], data=b"<svg>" + b" " * 95, timeout=30).status_code == 200
    refused = crew.finalize(photo["id"])
    assert refused.status_code == 409 and "not a JPEG" in refused.get_json()["message"]
    assert not in_store(app, original_key(photo["key"]))
    assert load_photo(app, photo["id"]).multipart_upload_id is None
    assert status(crew, photo["id"]).status_code == 404
    assert start(crew, photo["id"], 100).status_code == 201


def test_a_video_may_be_larger_than_the_photo_limit(app, as_user):
    crew = as_user("crew")
    video, still = crew.create(is_video=True, name="Walk.mp4"), crew.create()
    size = app.config["PHOTO_UPLOAD_MAX_BYTES"] + 1
    assert start(crew, video["id"], size).status_code == 201
    refused = start(crew, still["id"], size)
    assert refused.status_code == 400 and set(refused.get_json()["errors"]) == {"size"}
    too_big = start(crew, still["id"], app.config["VIDEO_UPLOAD_MAX_BYTES"] + 1)
    assert too_big.status_code == 400


def test_a_small_video_in_one_part(app, as_user):
    crew = as_user("crew")
    video = crew.create(is_video=True, name="Walk.mp4")
    start(crew, video["id"], len(MP4_STUB))
    part = part_urls(crew, video["id"], [1]).get_json()["parts"][0]
    assert requests.put(part["url"], data=MP4_STUB, timeout=30).status_code == 200
    done = crew.finalize(video["id"])
    assert done.status_code == 200 and done.get_json()["content_type"] == "video/mp4"


@pytest.mark.parametrize("body, field", [
    ({"size": 0}, "size"), ({"size": -1}, "size"), ({"size": "12"}, "size"), ({}, "size"),
    ({"size": 1.5}, "size"),
])
def test_a_bad_size_is_a_400_naming_it(as_user, body, field):
    crew = as_user("crew")
    photo = crew.create()
    response = crew.client.post(f"/light/photos/{photo['id']}/multipart/", json=body, headers=crew.headers)
    assert response.status_code == 400 and set(response.get_json()["errors"]) == {field}


@pytest.mark.parametrize("numbers", [[], [0], [2], [1, 3], list(range(1, 102)), ["1"], None])
def test_bad_part_numbers_are_a_400_naming_them(as_user, numbers):
    crew = as_user("crew")
    photo = crew.create()
    start(crew, photo["id"], 5000)  # one part
    response = part_urls(crew, photo["id"], numbers)
    assert response.status_code == 400 and set(response.get_json()["errors"]) == {"part_numbers"}


def test_who_may_start_an_upload(as_user, other_company):
    crew, owner = as_user("crew"), as_user("owner")
    pending, uploaded = crew.create(), crew.upload_and_finalize()
    # The owner cannot see crew's pending photo; sees the uploaded one, which is not theirs.
    assert start(owner, pending["id"], 100).status_code == 404
    assert start(owner, uploaded["id"], 100).status_code == 403
    assert start(as_user("owner", of=other_company), uploaded["id"], 100).status_code == 404
    assert start(crew, uploaded["id"], 100).status_code == 409
    for route in (status, abort):
        assert route(owner, uploaded["id"]).status_code == 403
        assert route(crew, uploaded["id"]).status_code == 409
        assert route(crew, pending["id"]).status_code == 404  # none open
    assert part_urls(crew, pending["id"], [1]).status_code == 404


def test_a_photo_finalized_by_post_while_an_upload_is_open(app, as_user):
    """The open upload decides: a file POSTed meanwhile is not what finalize takes."""
    crew = as_user("crew")
    photo = crew.create()
    start(crew, photo["id"], 100)
    assert upload(photo["upload_url"], JPEG_STUB).status_code == 204
    refused = crew.finalize(photo["id"])
    assert refused.status_code == 409 and refused.get_json()["missing_parts"] == [1]
    assert abort(crew, photo["id"]).status_code == 204
    assert crew.finalize(photo["id"]).get_json()["size"] == len(JPEG_STUB)


def test_an_upload_opened_while_a_post_is_finalized_decides(app, as_user, monkeypatch):
    """Finalize read the photo with no upload open; one is opened before it locks the row:
    the open upload decides, and the POSTed file is not promoted beside it."""
    from photoservice.photos import finalize

    crew = as_user("crew")
    photo = crew.create()
    assert upload(photo["upload_url"], JPEG_STUB).status_code == 204
    checked = finalize._checked_upload

    def then_opened(row):
        found = checked(row)
        assert in_another_thread(start, crew, photo["id"], 100).status_code == 201
        return found
    monkeypatch.setattr(finalize, "_checked_upload", then_opened)
    refused = crew.finalize(photo["id"])
    assert refused.status_code == 409 and refused.get_json()["missing_parts"] == [1]
    assert not in_store(app, original_key(photo["key"]))
    assert load_photo(app, photo["id"]).status == "pending_upload"

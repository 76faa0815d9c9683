"""PUT /light/photos/{id}/uploaded/: the store decides, the photo follows."""
import pytest

from photoservice import storage
from photoservice.database import utcnow
from photoservice.work import KINDS
from tests.media.images import html_as_jpeg, jpeg, mp4_head, png, quicktime_head
from tests.support import load_photo, store_deletions, upload

JPEG = b"\xff\xd8\xff\xe0" + b"2" * 500


def test_finalize_before_upload_is_409_and_photo_stays_pending(as_user):
    crew = as_user("crew")
    photo = crew.create()
    response = crew.finalize(photo["id"])
    assert response.status_code == 409
    assert "upload" in response.get_json()["message"]
    assert crew.get(f"/light/photos/{photo['id']}/").get_json()["status"] == "pending_upload"


def test_finalize_records_what_the_store_holds(as_user):
    crew = as_user("crew")
    photo = crew.create(name="Eave")
    upload(photo["upload_url"], JPEG, fields={"Content-Type": "image/png"})
    done = crew.finalize(photo["id"]).get_json()
    assert done["status"] == "uploaded"
    assert done["size"] == len(JPEG)
    assert done["content_type"] == "image/jpeg"  # what the bytes are, not what the upload said
    assert done["uploaded_at"] is not None
    assert done["media_status"] == "queued"


def test_finalize_queues_its_work_after_commit(app, as_user, monkeypatch):
    from photoservice import queue
    crew = as_user("crew")
    photo = crew.create()
    upload(photo["upload_url"], JPEG)
    sent = []
    monkeypatch.setattr(queue, "send", lambda task, *args, **options: sent.append(
        (task, args, load_photo(app, photo["id"]).status)))
    crew.finalize(photo["id"])
    crew.finalize(photo["id"])  # a repeat queues nothing more
    [removal] = [row for row in store_deletions(app) if row.due_at <= utcnow()]
    assert removal.key == photo["key"]  # the upload object: its bytes are the original now
    assert sent == [(KINDS["store_deletion"].task, ([removal.id],), "uploaded"),
                    (KINDS["media"].task, (photo["id"],), "uploaded")]


@pytest.mark.parametrize("content, is_video, content_type", [
    (html_as_jpeg(), False, "image/jpeg"),
    (b"GIF89a" + b"\0" * 40, False, "image/gif"),
    (b"plain text, no picture", False, "image/jpeg"),
    (jpeg(), True, "video/mp4"),
    (mp4_head(), False, "image/jpeg"),
])
def test_a_file_of_another_kind_is_refused_removed_and_can_be_replaced(
        app, as_user, content, is_video, content_type):
    crew = as_user("crew")
    photo = crew.create(is_video=is_video)
    assert upload(photo["upload_url"], content, fields={"Content-Type": content_type}).status_code == 204
    response = crew.finalize(photo["id"])
    assert response.status_code == 409
    message = response.get_json()["message"]
    assert ("MP4 or QuickTime" if is_video else "JPEG, PNG, HEIC/HEIF or WebP") in message
    assert crew.get(f"/light/photos/{photo['id']}/").get_json()["status"] == "pending_upload"
    with app.app_context():
        assert storage.stat_object(photo["key"]) is None  # removed from the store
    right = mp4_head() + b"\0" * 200 if is_video else png()
    upload(photo["upload_url"], right, fields={"Content-Type": "video/mp4" if is_video else "image/png"})
    done = crew.finalize(photo["id"])
    assert done.status_code == 200
    assert done.get_json()["content_type"] == ("video/mp4" if is_video else "image/png")


def test_a_quicktime_video_is_accepted(as_user):
    crew = as_user("crew")
    photo = crew.create(is_video=True, name="walkaround.mov")
    upload(photo["upload_url"], quicktime_head() + b"\0" * 100, fields={"Content-Type": "video/quicktime"})
    assert crew.finalize(photo["id"]).get_json()["content_type"] == "video/quicktime"


def test_finalize_is_repeatable(as_user):
    crew = as_user("crew")
    first = crew.upload_and_finalize()
    again = crew.finalize(first["id"])
    assert again.status_code == 200
    assert again.get_json()["uploaded_at"] == first["uploaded_at"]
    assert again.get_json()["size"] == first["size"]


def test_others_cannot_finalize_a_pending_photo(as_user, other_company):
    photo = as_user("crew").create()
    for caller in (as_user("owner"), as_user("employee"), as_user("owner", of=other_company)):
        response = caller.finalize(photo["id"])
        assert response.status_code == 404
        assert response.get_json()["message"] == "Photo not found."


def test_store_down_is_503_and_photo_stays_pending(app, as_user, monkeypatch):
    crew = as_user("crew")
    photo = crew.create()
    upload(photo["upload_url"], JPEG)
    monkeypatch.setitem(app.config, "S3_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens
    response = crew.finalize(photo["id"])
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    monkeypatch.undo()
    assert crew.get(f"/light/photos/{photo['id']}/").get_json()["status"] == "pending_upload"
    assert crew.finalize(photo["id"]).status_code == 200

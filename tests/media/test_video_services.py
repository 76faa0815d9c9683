"""A video's media work (processing.media) against the real parts: the clip in SeaweedFS,
the row in PostgreSQL, the same time and place rules as a photo's; and through a real
worker: a damaged clip fails and the next is served, `photo.processed` follows the
poster, and deleting the video removes its poster's variants from the store."""
import hashlib
import io
import time
from datetime import datetime, timezone

from PIL import Image

from photoservice.derivatives import DERIVATIVES
from photoservice.extensions import db
from photoservice.photos.object_keys import stored_keys
from photoservice.webhooks.models import WebhookDelivery
from tests.media.test_services import (
    CLIENT_EXIF,
    assert_the_clients_exif_wins,
    run_media,
    stored,
)
from tests.media.videos import BLUE, RED, clip, truncated
from tests.support import in_store, upload

APPLE_DENVER = {"com.apple.quicktime.creationdate": "2024-07-04T09:30:00-0600",
                "com.apple.quicktime.location.ISO6709": "+39.7392-104.9903+1609.000/"}


def uploaded_video(uploaded, content, content_type="video/quicktime", **body):
    return uploaded(content, content_type, is_video=True, name=body.pop("name", "walkaround.mov"), **body)


def near(colour, expected, tolerance=40):
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected))


def test_a_portrait_iphone_clip_is_measured_placed_and_gets_an_upright_poster(app, uploaded, as_user):
    content = clip((480, 640), codec="libx265", format="mov", tags=APPLE_DENVER, rotation=90, frames=3)
    photo = run_media(app, uploaded_video(uploaded, content))
    assert photo.media_status == "processed" and photo.media_error is None
    assert photo.sha256 == hashlib.sha256(content).hexdigest()
    assert (photo.width, photo.height, photo.duration) == (480, 640, 0.12)
    assert photo.captured_at == datetime(2024, 7, 4, 15, 30, tzinfo=timezone.utc)
    assert photo.captured_at_source == "file"
    assert (photo.latitude, photo.longitude) == (39.7392, -104.9903)
    assert photo.location["city"] == "Denver"  # geocoded as a photo's file GPS is
    assert {name: (v["width"], v["height"]) for name, v in photo.variants.items()} == {
        "thumbnail": (300, 400), "web": (480, 640)}  # never upscaled
    thumbnail = Image.open(io.BytesIO(stored(app, photo.variants["thumbnail"]["key"])))
    assert thumbnail.format == "JPEG" and thumbnail.size == (300, 400)
    assert near(thumbnail.getpixel((150, 20)), RED) and near(thumbnail.getpixel((150, 380)), BLUE)
    shown = as_user("crew").get(f"/light/photos/{photo.id}/").get_json()
    assert (shown["duration"], shown["width"], shown["height"]) == (0.12, 480, 640)
    assert set(shown["variants"]) == set(DERIVATIVES)


def test_the_clients_exif_wins_over_the_video_file(app, uploaded):
    assert_the_clients_exif_wins(app, uploaded_video(uploaded, clip(format="mov", tags=APPLE_DENVER),
                                                     exif=CLIENT_EXIF))


def test_an_mp4_without_metadata_has_no_time_or_place(app, uploaded):
    photo = run_media(app, uploaded_video(uploaded, clip(), "video/mp4", name="clip.mp4"))
    assert photo.media_status == "processed" and (photo.width, photo.height) == (64, 48)
    assert (photo.captured_at, photo.captured_at_source, photo.latitude, photo.location) == (
        None, None, None, None)


def test_a_photo_has_no_duration(app, uploaded):
    from tests.media.images import jpeg
    assert run_media(app, uploaded(jpeg(640, 480))).duration is None


def test_a_damaged_video_is_a_permanent_failure(app, uploaded):
    content = truncated(clip(frames=25))
    photo = run_media(app, uploaded_video(uploaded, content, "video/mp4", name="cut.mp4"))
    assert photo.media_status == "failed"
    assert photo.media_error == "The video file is incomplete: its end is missing."
    assert photo.sha256 == hashlib.sha256(content).hexdigest() and photo.variants is None
    assert run_media(app, photo.id).media_attempts == 1  # failed for good: not tried again


def test_a_worker_serves_videos_like_photos(app, as_user, start_worker, wait_processed):
    start_worker()
    owner, crew = as_user("owner"), as_user("crew")
    response = owner.client.post("/light/webhooks/", headers=owner.headers, json={
        "url": "https://crm.example.com/hooks", "events": ["photo.processed"]})
    assert response.status_code == 201, response.get_json()

    def send(content, name):
        photo = crew.create(name=name, is_video=True)
        assert upload(photo["upload_url"], content, fields={"Content-Type": "video/mp4"},
                      filename=name).status_code == 204
        assert crew.finalize(photo["id"]).status_code == 200
        return photo["id"]

    damaged, good = send(truncated(clip(frames=25)), "cut.mp4"), send(clip(frames=25), "walk.mp4")
    failed, done = wait_processed([damaged, good])
    assert (failed.media_status, failed.media_error) == (
        "failed", "The video file is incomplete: its end is missing.")
    assert (done.media_status, done.duration, set(done.variants)) == ("processed", 1.0, set(DERIVATIVES))
    with app.app_context():
        events = db.session.execute(db.select(WebhookDelivery).where(
            WebhookDelivery.event_type == "photo.processed")).scalars().all()
        announced = {event.payload["data"]["id"]: event.payload["data"] for event in events}
    assert announced[good]["media_status"] == "processed" and announced[good]["duration"] == 1.0
    assert announced[damaged]["media_status"] == "failed"

    keys = stored_keys(done)
    assert all(in_store(app, done.variants[name]["key"]) for name in DERIVATIVES)
    assert crew.delete(good).status_code == 204
    deadline = time.monotonic() + 60
    while any(in_store(app, key) for key in keys):
        assert time.monotonic() < deadline, "the video's files were not removed"
        time.sleep(0.2)

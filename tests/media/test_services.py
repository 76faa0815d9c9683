"""The media work (processing.media) against the real parts: the file in SeaweedFS,
the row in PostgreSQL.

Each test uploads a file through the presigned POST as a phone would, finalizes
it, then runs the media work directly (the worker tests run it through Celery).
"""
import hashlib
import io
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image

from photoservice import storage
from photoservice.derivatives import DERIVATIVES
from photoservice.extensions import db
from photoservice.processing import media
from photoservice.photos.models import Photo
from photoservice.photos.representation import photo_record
from tests.media.hostile import hostile
from tests.media.images import (BLUE, DENVER, GREEN, RED, YELLOW, heic, html_as_jpeg, jpeg, png,
                                png_bomb, truncated_jpeg, webp)
from tests.support import MP4_STUB, NEW_YORK, load_photo, upload

TAKEN = datetime(2024, 7, 4, 15, 30, 0)


def run_media(app, photo_id):
    with app.app_context():
        media.process_media(photo_id)
    return load_photo(app, photo_id)


def stored(app, key):
    with app.app_context():
        body = storage.client().get_object(Bucket=app.config["S3_BUCKET"], Key=key)["Body"].read()
    return body


def colour_at(image, x, y):
    return image.convert("RGB").getpixel((x, y))


def near(colour, expected, tolerance=40):
    return all(abs(a - b) <= tolerance for a, b in zip(colour, expected))


def test_a_portrait_photo_is_hashed_measured_and_derived_upright(app, uploaded):
    content = jpeg(2400, 1800, orientation=6, quality=70)
    photo_id = uploaded(content)
    photo = run_media(app, photo_id)
    assert photo.media_status == "processed" and photo.media_error is None
    assert photo.sha256 == hashlib.sha256(content).hexdigest()
    assert (photo.width, photo.height) == (1800, 2400)  # as displayed
    assert set(photo.variants) == set(DERIVATIVES)
    assert {name: (photo.variants[name]["width"], photo.variants[name]["height"])
            for name in ("thumbnail", "web")} == {"thumbnail": (300, 400), "web": (1200, 1600)}
    web = Image.open(io.BytesIO(stored(app, photo.variants["web"]["key"])))
    assert web.format == "JPEG" and web.size == (1200, 1600)
    # Orientation 6: the stored top-left (red) quadrant is shown top-right.
    assert near(colour_at(web, 1100, 100), RED) and near(colour_at(web, 100, 100), BLUE)
    assert near(colour_at(web, 1100, 1500), GREEN) and near(colour_at(web, 100, 1500), YELLOW)


def test_derivatives_carry_no_metadata_at_all(app, uploaded):
    photo_id = uploaded(jpeg(800, 600, taken=TAKEN, offset="-06:00", gps=DENVER, comment=b"phone"))
    photo = run_media(app, photo_id)
    for variant in photo.variants.values():
        data = stored(app, variant["key"])
        image = Image.open(io.BytesIO(data))
        assert not image.getexif() and "exif" not in image.info and "icc_profile" not in image.info
        assert b"Exif" not in data and b"GPS" not in data and b"phone" not in data


def test_small_photos_are_never_upscaled(app, uploaded):
    photo = run_media(app, uploaded(png(120, 80), "image/png"))  # smaller than any size
    assert {v["width"] for v in photo.variants.values()} == {120}
    assert photo.content_type == "image/png"


def test_file_capture_time_with_offset_fills_what_the_client_left_out(app, uploaded):
    photo = run_media(app, uploaded(jpeg(640, 480, taken=TAKEN, offset="-06:00")))
    assert photo.captured_at == datetime(2024, 7, 4, 21, 30, tzinfo=timezone.utc)
    assert photo.captured_at_source == "file"


def test_naive_file_time_is_local_time_at_the_gps_point(app, uploaded):
    # Denver in July is UTC-6 (MDT), whatever the server's own time zone.
    photo = run_media(app, uploaded(jpeg(640, 480, taken=TAKEN, gps=DENVER)))
    assert photo.captured_at == datetime(2024, 7, 4, 21, 30, tzinfo=timezone.utc)


def test_naive_file_time_without_gps_is_utc(app, uploaded):
    photo = run_media(app, uploaded(jpeg(640, 480, taken=TAKEN)))
    assert photo.captured_at == datetime(2024, 7, 4, 15, 30, tzinfo=timezone.utc)


def test_gps_only_in_the_file_is_recorded_and_geocoded(app, uploaded):
    photo = run_media(app, uploaded(jpeg(640, 480, gps=DENVER)))
    assert photo.latitude == pytest.approx(DENVER[0], abs=1e-4)
    assert photo.longitude == pytest.approx(DENVER[1], abs=1e-4)
    assert photo.location["city"] == "Denver"


#: A client's exif: 2024-11-28 10:40 UTC, in New York.
CLIENT_EXIF = {"timestamp": 1732790400000, **NEW_YORK}


def assert_the_clients_exif_wins(app, photo_id):
    """Both kinds of work done on a photo created with CLIENT_EXIF: its time and place stand."""
    with app.app_context():
        from photoservice.processing import services as processing
        processing.process_photo(photo_id)
    photo = run_media(app, photo_id)
    assert photo.captured_at == datetime(2024, 11, 28, 10, 40, tzinfo=timezone.utc)
    assert photo.captured_at_source == "client"
    assert (photo.latitude, photo.longitude) == (NEW_YORK["latitude"], NEW_YORK["longitude"])
    assert photo.location["city"] == "New York City"


def test_the_clients_exif_wins_over_the_files(app, uploaded):
    assert_the_clients_exif_wins(app, uploaded(
        jpeg(640, 480, taken=TAKEN, offset="+00:00", gps=DENVER), exif=CLIENT_EXIF))


def test_heic_is_decoded_and_its_derivatives_are_jpeg(app, uploaded):
    photo = run_media(app, uploaded(heic(640, 480, taken=TAKEN, offset="+02:00"), "image/heic",
                                    name="IMG_0001.HEIC"))
    assert photo.media_status == "processed"
    assert photo.content_type == "image/heic" and (photo.width, photo.height) == (640, 480)
    assert Image.open(io.BytesIO(stored(app, photo.variants["thumbnail"]["key"]))).format == "JPEG"
    assert photo.captured_at == datetime(2024, 7, 4, 13, 30, tzinfo=timezone.utc)


def test_webp_is_processed(app, uploaded):
    photo = run_media(app, uploaded(webp(900, 600), "image/webp"))
    assert photo.media_status == "processed" and photo.variants["thumbnail"]["width"] == 400


@pytest.mark.parametrize("content, reason", [
    (truncated_jpeg(), "incomplete"),
    (png_bomb(20000, 20000), "limit"),
    (b"\xff\xd8\xff" + b"\x00" * 300, "damaged"),
])
def test_a_file_that_cannot_be_read_is_a_permanent_failure(app, uploaded, content, reason):
    photo = run_media(app, uploaded(content))
    assert photo.media_status == "failed" and reason in photo.media_error
    assert photo.sha256 == hashlib.sha256(content).hexdigest()  # what was found is kept
    assert photo.variants is None
    assert run_media(app, photo.id).media_attempts == 1  # failed for good: not tried again


def test_a_video_that_is_only_a_header_is_a_permanent_failure(app, uploaded):
    # Videos themselves: tests/media/test_video_services.py.
    photo = run_media(app, uploaded(MP4_STUB, "video/mp4", is_video=True, name="walkaround"))
    assert photo.media_status == "failed" and "moov box is missing" in photo.media_error
    assert photo.sha256 == hashlib.sha256(MP4_STUB).hexdigest() and photo.variants is None


def test_running_twice_changes_nothing(app, uploaded):
    photo_id = uploaded(jpeg(640, 480))
    first = run_media(app, photo_id)
    second = run_media(app, photo_id)
    assert (second.media_attempts, second.media_processed_at) == (1, first.media_processed_at)


def test_store_outage_is_transient_and_leaves_the_work_queued(app, uploaded, monkeypatch):
    from photoservice.errors import DependencyUnavailable
    photo_id = uploaded(jpeg(640, 480))
    monkeypatch.setitem(app.config, "S3_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens
    with app.app_context(), pytest.raises(DependencyUnavailable):
        media.process_media(photo_id)
    monkeypatch.undo()
    assert load_photo(app, photo_id).media_status == "queued"
    assert run_media(app, photo_id).media_status == "processed"


def test_the_sweep_finds_media_work_the_broker_never_got(app, uploaded, monkeypatch):
    from photoservice.photos import outbox
    photo_id = uploaded(jpeg(64, 48))
    with app.app_context():
        assert outbox.due_for_media() == []  # handed over at finalize
        outbox.mark_undispatched([photo_id], outbox.MEDIA)
        assert outbox.due_for_media() == [photo_id]
        monkeypatch.setitem(app.config, "PROCESSING_MAX_ATTEMPTS", 1)
        media.process_media(photo_id)
    assert load_photo(app, photo_id).media_status == "processed"


def test_html_never_reaches_the_media_work(app, as_user):
    crew = as_user("crew")
    photo = crew.create()
    upload(photo["upload_url"], html_as_jpeg())
    assert crew.finalize(photo["id"]).status_code == 409
    assert load_photo(app, photo["id"]).media_status == "waiting_upload"


def test_the_photo_shows_its_variants_with_working_links(app, as_user, uploaded):
    import requests
    photo_id = uploaded(jpeg(2000, 1500, quality=60))
    run_media(app, photo_id)
    for body in (as_user("crew").get(f"/light/photos/{photo_id}/").get_json(),
                 as_user("owner").get("/light/photos/").get_json()["results"][0]):
        assert body["media_status"] == "processed" and body["width"] == 2000
        thumb = body["variants"]["thumbnail"]
        assert (thumb["width"], thumb["height"]) == (400, 300)
        response = requests.get(thumb["url"], timeout=10)
        assert response.status_code == 200
        assert Image.open(io.BytesIO(response.content)).size == (400, 300)
    assert as_user("crew").create()["variants"] is None


def test_ignored_metadata_is_recorded_and_shown_everywhere_the_photo_is(app, as_user, uploaded):
    photo_id = uploaded(hostile("jpeg-gps-fan"))
    photo = run_media(app, photo_id)
    assert photo.media_status == "processed" and photo.variants and photo.sha256
    assert photo.media_warnings == ["metadata ignored: EXIF directory has too many entries"]
    with app.app_context():
        event_data = photo_record(db.session.get(Photo, photo_id))  # what a webhook carries
    for body in (as_user("crew").get(f"/light/photos/{photo_id}/").get_json(),
                 as_user("owner").get("/light/photos/").get_json()["results"][0], event_data):
        assert body["media_warnings"] == photo.media_warnings
    clean = run_media(app, uploaded(jpeg(64, 48, gps=DENVER)))
    assert clean.media_warnings == []


def test_exhausted_attempts_end_in_a_recorded_failure(app, uploaded, monkeypatch):
    photo_id = uploaded(jpeg(64, 48))
    monkeypatch.setitem(app.config, "PROCESSING_MAX_ATTEMPTS", 2)
    with app.app_context():
        from photoservice.extensions import db
        from photoservice.photos.models import Photo
        db.session.get(Photo, photo_id).media_attempts = 2  # e.g. a file that killed the worker twice
        db.session.commit()
    photo = run_media(app, photo_id)
    assert photo.media_status == "failed" and "Gave up after 2 attempts" in photo.media_error
    assert timedelta(0) <= datetime.now(timezone.utc) - photo.uploaded_at


def test_a_geocoder_outage_repeats_only_the_geocoding(app, uploaded, monkeypatch):
    from photoservice.geocoding.geocoders import GeocodingUnavailable
    photo_id = uploaded(jpeg(640, 480, gps=DENVER))

    def down(latitude, longitude):
        raise GeocodingUnavailable("503")

    monkeypatch.setattr(media, "reverse_geocode", down)
    with app.app_context(), pytest.raises(GeocodingUnavailable):
        media.process_media(photo_id)
    waiting = load_photo(app, photo_id)
    assert waiting.media_status == "queued" and waiting.sha256 and waiting.variants  # the file's facts are kept
    monkeypatch.undo()
    photo = run_media(app, photo_id)
    assert photo.media_status == "processed" and photo.location["city"] == "Denver"
    assert photo.media_attempts == 1  # the file was not read again


def test_the_keys_a_photo_may_have_name_every_derivative_the_worker_makes(app, uploaded):
    from photoservice.photos.object_keys import original_key, stored_keys

    photo = run_media(app, uploaded(jpeg(640, 480)))
    assert set(DERIVATIVES) == set(photo.variants)
    assert stored_keys(photo) == [photo.key, original_key(photo.key),
                                  *(photo.variants[name]["key"] for name in DERIVATIVES)]

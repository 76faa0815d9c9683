"""processing.services: a photo's capture date, location and parent job.

The services run here directly, in an app context, against the real PostgreSQL
and the offline geocoder (the default); the one permanent geocoding failure goes
over HTTP to a local Nominatim stub. GPS parsing itself is covered in test_gps.py.
"""
import logging
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

import photoservice.geocoding.geocoders as geocoding
from photoservice.database import utcnow
from photoservice.extensions import db
from photoservice.geocoding.models import GeocodedPlace
from photoservice.photos.models import Photo
from photoservice.processing import services
from tests.support import METRE, NEW_YORK, in_another_thread, load_photo, photo_columns

MID_ATLANTIC = {"latitude": 0.5, "longitude": -30}
TIMESTAMP_MS = 1732790400123  # 2024-11-28 10:40:00.123 UTC
CAPTURED_AT = datetime(2024, 11, 28, 10, 40, 0, 123000, tzinfo=timezone.utc)


def process(app, photo_id):
    with app.app_context():
        services.process_photo(photo_id)


def geocoded_places(app):
    with app.app_context():
        return db.session.execute(select(GeocodedPlace)).scalars().all()


# ---------------------------------------------------------------- process_photo


def test_process_photo_fills_capture_time_location_and_parent_job(app, as_user, company, offline):
    photo = as_user("owner").create(exif={"timestamp": TIMESTAMP_MS, **NEW_YORK},
                                    job_inspection_line_item=company["job_inspection_line_item"])
    with app.app_context():  # the service, not the create, must work out the job
        db.session.execute(update(Photo).where(Photo.id == photo["id"]).values(job_id=None))
        db.session.commit()
    before = load_photo(app, photo["id"])
    assert before.processing_status == "queued" and before.processed_at is None
    assert before.job_id is None and before.captured_at is None

    process(app, photo["id"])

    after = load_photo(app, photo["id"])
    assert after.captured_at == CAPTURED_AT
    assert (after.latitude, after.longitude) == (40.7128, -74.006)
    assert after.location["city"] == "New York City"
    assert after.location["country_code"] == "US"
    assert after.location["country"] == "United States"
    assert after.job_id == company["jobs"][0]
    assert after.processing_status == "processed"
    assert after.processing_error is None and after.location_error is None
    assert after.processing_attempts == 1
    assert after.processed_at is not None
    assert abs(after.processed_at - utcnow()) < timedelta(minutes=1)


def test_processing_twice_changes_nothing(app, as_user, offline):
    photo = as_user("owner").create(exif={"timestamp": TIMESTAMP_MS, **NEW_YORK})
    process(app, photo["id"])
    first = photo_columns(load_photo(app, photo["id"]))

    process(app, photo["id"])

    assert photo_columns(load_photo(app, photo["id"])) == first
    assert first["processing_status"] == "processed"
    assert len(geocoded_places(app)) == 1


def test_unparseable_gps_is_recorded_and_the_rest_is_kept(app, as_user, offline):
    photo = as_user("owner").create(exif={
        "timestamp": TIMESTAMP_MS, "GPSLatitude": "48/0", "GPSLatitudeRef": "N",
        "GPSLongitude": "2/1", "GPSLongitudeRef": "E"})

    process(app, photo["id"])

    after = load_photo(app, photo["id"])
    assert "GPSLatitude" in after.location_error and "division by zero" in after.location_error
    assert after.location is None and after.latitude is None and after.longitude is None
    assert after.captured_at == CAPTURED_AT
    assert after.processing_status == "processed" and after.processing_error is None
    assert geocoded_places(app) == []


def test_photo_without_exif_is_processed_with_nothing_to_fill(app, as_user, offline):
    photo = as_user("owner").create()
    process(app, photo["id"])
    after = load_photo(app, photo["id"])
    assert after.processing_status == "processed"
    assert after.captured_at is None and after.location is None and after.location_error is None


def test_mid_ocean_point_has_no_place_and_that_is_cached(app, as_user, offline, counted_geocoder_calls):
    first = as_user("owner").create(exif=MID_ATLANTIC)
    nearby = as_user("owner").create(exif={"latitude": 0.5 + 10 * METRE, "longitude": -30})

    process(app, first["id"])
    process(app, nearby["id"])

    for photo_id in (first["id"], nearby["id"]):
        after = load_photo(app, photo_id)
        assert after.processing_status == "processed"
        assert after.location is None and after.location_error is None
        assert after.latitude is not None
    places = geocoded_places(app)
    assert [(p.latitude, p.longitude, p.location) for p in places] == [(0.5, -30.0, None)]
    assert len(counted_geocoder_calls) == 1


def test_a_hundred_photos_of_one_roof_cost_one_geocoder_call(
        app, make_photo, offline, counted_geocoder_calls):
    # Scattered over a ~20 m square around one point.
    photo_ids = [make_photo(exif={"latitude": 39.7392 + (i % 10) * 2 * METRE,
                                  "longitude": -104.9903 + (i // 10) * 2 * METRE})
                 for i in range(100)]

    for photo_id in photo_ids:
        process(app, photo_id)

    assert len(counted_geocoder_calls) == 1
    assert len(geocoded_places(app)) == 1
    photos = [load_photo(app, photo_id) for photo_id in photo_ids]
    assert [(p.processing_status, p.location["city"]) for p in photos] == [("processed", "Denver")] * 100


def committed_transactions(app, photo_id):
    """How many COMMITs processing `photo_id` sends."""
    from sqlalchemy import event

    commits = []

    def count(connection):
        commits.append(connection)

    with app.app_context():
        engine = db.engine
        event.listen(engine, "commit", count)
        try:
            services.process_photo(photo_id)
        finally:
            event.remove(engine, "commit", count)
    return len(commits)


def test_a_photo_near_a_geocoded_place_is_processed_in_one_transaction(app, make_photo, offline):
    first = make_photo(exif={"timestamp": TIMESTAMP_MS, **NEW_YORK})
    nearby = make_photo(exif={"latitude": 40.7128 + 5 * METRE, "longitude": -74.006})

    assert committed_transactions(app, first) == 3  # the attempt, the cached place, the result
    assert committed_transactions(app, nearby) == 1
    after = load_photo(app, nearby)
    assert after.processing_status == "processed" and after.processing_attempts == 1
    assert after.location["city"] == "New York City"


def test_the_attempt_is_saved_before_the_geocoder_is_called(app, make_photo, offline, monkeypatch):
    photo_id = make_photo(exif={"timestamp": TIMESTAMP_MS, **NEW_YORK})
    with app.app_context():
        geocoder, _gate = geocoding.runtime()
    seen_during_call = []

    def reverse_seeing_the_row(query, **kwargs):
        # Another connection sees only what was committed.
        with db.engine.connect() as other:
            seen_during_call.append(other.execute(
                select(Photo.processing_status, Photo.processing_attempts, Photo.captured_at)
                .where(Photo.id == photo_id)).one())
        raise geocoding.GeocodingUnavailable("down")

    monkeypatch.setattr(geocoder, "reverse", reverse_seeing_the_row)
    with app.app_context(), pytest.raises(geocoding.GeocodingUnavailable):
        services.process_photo(photo_id)

    assert seen_during_call == [("processing", 1, CAPTURED_AT)]


def test_geocoding_refused_fails_the_photo_and_keeps_the_capture_time(
        app, as_user, geocoder_settings, nominatim_stub, caplog):
    geocoder_settings(GEOCODER="nominatim", NOMINATIM_DOMAIN=nominatim_stub.domain,
                      NOMINATIM_SCHEME="http", GEOCODER_TIMEOUT=1.0, GEOCODER_MAX_RPS=50.0)
    nominatim_stub.default = ("status", 403, {})
    photo = as_user("owner").create(exif={"timestamp": TIMESTAMP_MS, **NEW_YORK})

    with caplog.at_level(logging.WARNING):
        process(app, photo["id"])

    after = load_photo(app, photo["id"])
    assert after.processing_status == "processing_failed"
    assert after.processing_error == services.GEOCODING_REFUSED  # a stable sentence
    assert "GeocoderInsufficientPrivileges" in caplog.text  # the details are in the log
    assert after.captured_at == CAPTURED_AT
    assert (after.latitude, after.longitude) == (40.7128, -74.006)
    assert after.location is None and after.processed_at is None
    assert len(nominatim_stub.requests) == 1
    assert geocoded_places(app) == []


def test_photo_json_shows_the_processing_results(app, as_user, offline):
    owner = as_user("owner")
    good = owner.create(exif={"timestamp": TIMESTAMP_MS, **NEW_YORK})
    bad_gps = owner.create(exif={"GPSLatitude": "48/0", "GPSLongitude": "2/1"})
    assert good["processing_status"] == "queued" and good["location"] is None
    process(app, good["id"])
    process(app, bad_gps["id"])

    response = owner.get(f"/light/photos/{good['id']}/")
    assert response.status_code == 200
    body = response.get_json()
    assert body["processing_status"] == "processed"
    assert body["processing_error"] is None and body["location_error"] is None
    assert body["captured_at"] == "2024-11-28T10:40:00.123000+00:00"
    assert (body["latitude"], body["longitude"]) == (40.7128, -74.006)
    assert body["location"]["city"] == "New York City"
    assert body["location"]["country_code"] == "US"
    assert set(body["location"]) >= {"address", "city", "state", "postal_code", "country",
                                     "country_code"}

    body = owner.get(f"/light/photos/{bad_gps['id']}/").get_json()
    assert body["processing_status"] == "processed"
    assert "division by zero" in body["location_error"]
    assert body["location"] is None and body["latitude"] is None and body["captured_at"] is None


def test_capture_time_is_utc_from_milliseconds():
    assert services.capture_time({"timestamp": TIMESTAMP_MS}) == CAPTURED_AT
    assert services.capture_time({"timestamp": 1732790400000.0}).tzinfo == timezone.utc
    assert services.capture_time({}) is None
    assert services.capture_time(None) is None


# ---------------------------------------------------------------- the task around the service


def test_a_photo_deleted_while_its_place_is_looked_up_is_no_error(app, as_user, offline, monkeypatch):
    crew = as_user("crew")
    photo = crew.create(exif={"timestamp": TIMESTAMP_MS, **NEW_YORK})
    real_geocode_miss = services.geocode_miss

    def deleted_meanwhile(latitude, longitude):
        assert in_another_thread(crew.delete, photo["id"]).status_code == 204
        return real_geocode_miss(latitude, longitude)

    monkeypatch.setattr(services, "geocode_miss", deleted_meanwhile)
    with app.app_context():
        assert services.process_photo(photo["id"]) is None
    assert load_photo(app, photo["id"]) is None

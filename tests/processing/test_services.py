"""processing.services: a photo's capture date, location and parent job, and its dispatch state.

The services run here directly, in an app context, against the real PostgreSQL
and the offline geocoder (the default); the one permanent geocoding failure goes
over HTTP to a local Nominatim stub. GPS parsing itself is covered in test_gps.py.
"""
import secrets
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

import photoservice.geocoding.geocoders as geocoding
from photoservice.extensions import db
from photoservice.geocoding.models import GeocodedPlace
from photoservice.database import utcnow
from photoservice.photos.models import Photo
from photoservice.photos import outbox
from photoservice.processing import services

NEW_YORK = {"latitude": 40.7128, "longitude": -74.0060}
MID_ATLANTIC = {"latitude": 0.5, "longitude": -30}
TIMESTAMP_MS = 1732790400123  # 2024-11-28 10:40:00.123 UTC
CAPTURED_AT = datetime(2024, 11, 28, 10, 40, 0, 123000, tzinfo=timezone.utc)
# About one metre of latitude, in degrees.
METRE = 1 / 111_320
UNSET = object()


@pytest.fixture
def geocoder_settings(app, monkeypatch):
    """`geocoder_settings(GEOCODER=...)` switches settings; the per-process geocoder follows."""
    def switch(**settings):
        for name, value in settings.items():
            monkeypatch.setitem(app.config, name, value)
        geocoding._runtime.cache_clear()

    geocoding._runtime.cache_clear()
    yield switch
    geocoding._runtime.cache_clear()


@pytest.fixture
def offline(geocoder_settings):
    geocoder_settings(GEOCODER="offline")


@pytest.fixture
def counted_geocoder_calls(app, offline, monkeypatch):
    """The points this process's geocoder is asked about, in order."""
    calls = []
    with app.app_context():
        geocoder, _gate = geocoding.runtime()
    real_reverse = geocoder.reverse

    def counting_reverse(query, **kwargs):
        calls.append(query)
        return real_reverse(query, **kwargs)

    monkeypatch.setattr(geocoder, "reverse", counting_reverse)
    return calls


@pytest.fixture
def make_photo(app, company):
    """Insert a photo row of `company` directly; returns its id."""
    creator = company["users"][0]["id"]

    def make(**values):
        values.setdefault("name", "Ridge")
        # A None given to the model would be replaced by the column default: update instead.
        dispatched_at = values.pop("dispatched_at", UNSET)
        with app.app_context():
            photo = Photo(company_id=company["id"], created_by=creator,
                          key=f"ridge_{secrets.token_hex(4)}.jpg", **values)
            db.session.add(photo)
            db.session.flush()
            if dispatched_at is not UNSET:
                db.session.execute(update(Photo).where(Photo.id == photo.id)
                                   .values(dispatched_at=dispatched_at))
            db.session.commit()
            return photo.id
    return make


def process(app, photo_id):
    with app.app_context():
        services.process_photo(photo_id)


def load(app, photo_id):
    """The photo as stored, read in a fresh session."""
    with app.app_context():
        photo = db.session.get(Photo, photo_id)
        db.session.expunge(photo)
        return photo


def columns(photo):
    return {c.key: getattr(photo, c.key) for c in Photo.__mapper__.column_attrs}


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
    before = load(app, photo["id"])
    assert before.processing_status == "queued" and before.processed_at is None
    assert before.job_id is None and before.captured_at is None

    process(app, photo["id"])

    after = load(app, photo["id"])
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
    first = columns(load(app, photo["id"]))

    process(app, photo["id"])

    assert columns(load(app, photo["id"])) == first
    assert first["processing_status"] == "processed"
    assert len(geocoded_places(app)) == 1


def test_unparseable_gps_is_recorded_and_the_rest_is_kept(app, as_user, offline):
    photo = as_user("owner").create(exif={
        "timestamp": TIMESTAMP_MS, "GPSLatitude": "48/0", "GPSLatitudeRef": "N",
        "GPSLongitude": "2/1", "GPSLongitudeRef": "E"})

    process(app, photo["id"])

    after = load(app, photo["id"])
    assert "GPSLatitude" in after.location_error and "division by zero" in after.location_error
    assert after.location is None and after.latitude is None and after.longitude is None
    assert after.captured_at == CAPTURED_AT
    assert after.processing_status == "processed" and after.processing_error is None
    assert geocoded_places(app) == []


def test_photo_without_exif_is_processed_with_nothing_to_fill(app, as_user, offline):
    photo = as_user("owner").create()
    process(app, photo["id"])
    after = load(app, photo["id"])
    assert after.processing_status == "processed"
    assert after.captured_at is None and after.location is None and after.location_error is None


def test_mid_ocean_point_has_no_place_and_that_is_cached(app, as_user, offline, counted_geocoder_calls):
    first = as_user("owner").create(exif=MID_ATLANTIC)
    nearby = as_user("owner").create(exif={"latitude": 0.5 + 10 * METRE, "longitude": -30})

    process(app, first["id"])
    process(app, nearby["id"])

    for photo_id in (first["id"], nearby["id"]):
        after = load(app, photo_id)
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
    photos = [load(app, photo_id) for photo_id in photo_ids]
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
    after = load(app, nearby)
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
        app, as_user, geocoder_settings, nominatim_stub):
    geocoder_settings(GEOCODER="nominatim", NOMINATIM_DOMAIN=nominatim_stub.domain,
                      NOMINATIM_SCHEME="http", GEOCODER_TIMEOUT=1.0, GEOCODER_MAX_RPS=50.0)
    nominatim_stub.default = ("status", 403, {})
    photo = as_user("owner").create(exif={"timestamp": TIMESTAMP_MS, **NEW_YORK})

    process(app, photo["id"])

    after = load(app, photo["id"])
    assert after.processing_status == "processing_failed"
    assert "refused" in after.processing_error.lower()
    assert "GeocoderInsufficientPrivileges" in after.processing_error
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


def test_photo_json_shows_a_permanent_failure(app, as_user):
    photo = as_user("owner").create()
    with app.app_context():
        services.record_failure(photo["id"], "Reverse geocoding refused: no")
    body = as_user("owner").get(f"/light/photos/{photo['id']}/").get_json()
    assert body["processing_status"] == "processing_failed"
    assert body["processing_error"] == "Reverse geocoding refused: no"


# ---------------------------------------------------------------- record_failure


def test_record_failure_marks_an_unfinished_photo(app, make_photo):
    photo_id = make_photo(processing_status="processing")
    with app.app_context():
        services.record_failure(photo_id, "x" * 3000)
    after = load(app, photo_id)
    assert after.processing_status == "processing_failed"
    assert after.processing_error == "x" * 2000


def test_record_failure_never_overrides_a_processed_photo(app, as_user, offline):
    photo = as_user("owner").create(exif=NEW_YORK)
    process(app, photo["id"])
    before = columns(load(app, photo["id"]))

    with app.app_context():
        services.record_failure(photo["id"], "Gave up after 9 tries")

    assert columns(load(app, photo["id"])) == before
    assert before["processing_status"] == "processed"


def test_record_failure_of_a_missing_photo_is_harmless(app):
    with app.app_context():
        assert services.record_failure(999_999, "gone") is None
        assert services.process_photo(999_999) is None


# ---------------------------------------------------------------- dispatch


def test_due_for_dispatch_picks_undispatched_and_stale_work(app, make_photo, monkeypatch):
    monkeypatch.setitem(app.config, "PROCESSING_REDISPATCH_AFTER", 600)
    monkeypatch.setitem(app.config, "PROCESSING_MAX_ATTEMPTS", 3)
    now = utcnow()
    never_sent = make_photo(dispatched_at=None)
    stale = make_photo(dispatched_at=now - timedelta(seconds=700), processing_status="processing",
                       processing_attempts=1)
    fresh = make_photo(dispatched_at=now - timedelta(seconds=500))
    retry_scheduled = make_photo(dispatched_at=now + timedelta(seconds=60), processing_attempts=2)
    processed = make_photo(dispatched_at=None, processing_status="processed")
    failed = make_photo(dispatched_at=None, processing_status="processing_failed")
    exhausted = make_photo(dispatched_at=None, processing_attempts=3)

    with app.app_context():
        due = services.due_for_dispatch()

    assert due == [never_sent, stale]
    after = load(app, exhausted)
    assert after.processing_status == "processing_failed"
    assert "3 attempts" in after.processing_error
    for photo_id, status in ((fresh, "queued"), (retry_scheduled, "queued"),
                             (processed, "processed"), (failed, "processing_failed")):
        assert load(app, photo_id).processing_status == status


def test_due_for_dispatch_respects_the_limit(app, make_photo):
    ids = [make_photo(dispatched_at=None) for _ in range(3)]
    with app.app_context():
        assert services.due_for_dispatch(limit=2) == ids[:2]


def test_mark_dispatched_takes_photos_out_of_the_sweep(app, make_photo):
    ids = [make_photo(dispatched_at=None) for _ in range(2)]
    with app.app_context():
        outbox.mark_dispatched(ids)
        assert services.due_for_dispatch() == []
    for photo_id in ids:
        assert abs(load(app, photo_id).dispatched_at - utcnow()) < timedelta(minutes=1)


def test_mark_undispatched_leaves_the_photo_for_the_next_sweep(app, as_user):
    photo = as_user("owner").create()  # handed to the broker at create
    assert load(app, photo["id"]).dispatched_at is not None
    with app.app_context():
        assert services.due_for_dispatch() == []
        outbox.mark_undispatched(photo["id"])
        assert load(app, photo["id"]).dispatched_at is None
        assert services.due_for_dispatch() == [photo["id"]]


def test_note_retry_holds_the_sweep_until_the_retry_is_due(app, make_photo, monkeypatch):
    monkeypatch.setitem(app.config, "PROCESSING_REDISPATCH_AFTER", 600)
    photo_id = make_photo(dispatched_at=utcnow() - timedelta(hours=1))
    with app.app_context():
        assert services.due_for_dispatch() == [photo_id]
        services.note_retry(photo_id, 120)
        assert services.due_for_dispatch() == []
    expected = utcnow() + timedelta(seconds=120)
    assert abs(load(app, photo_id).dispatched_at - expected) < timedelta(seconds=30)


def test_capture_time_is_utc_from_milliseconds():
    assert services.capture_time({"timestamp": TIMESTAMP_MS}) == CAPTURED_AT
    assert services.capture_time({"timestamp": 1732790400000.0}).tzinfo == timezone.utc
    assert services.capture_time({}) is None
    assert services.capture_time(None) is None


# ---------------------------------------------------------------- the task around the service


def test_an_error_that_is_not_transient_fails_the_photo_at_once(app, make_photo, offline, monkeypatch):
    from workers import tasks

    photo_id = make_photo(exif={"timestamp": TIMESTAMP_MS, **NEW_YORK})

    def broken(exif):
        raise KeyError("GPSVersionID")

    monkeypatch.setattr(services, "coordinates_from_exif", broken)
    with app.app_context():
        result = tasks.process_photo.apply(args=[photo_id])

    assert result.failed() and isinstance(result.result, KeyError)  # Celery still sees it
    after = load(app, photo_id)
    assert after.processing_status == "processing_failed"
    assert after.processing_error == "Processing failed: KeyError: 'GPSVersionID'"
    assert after.processed_at is None

"""The pipeline end to end: real worker processes, a private Redis, a Nominatim stub."""
import os
import signal
import time
from datetime import datetime

import psycopg

from photoservice.derivatives import DERIVATIVES
from photoservice.extensions import db
from photoservice.photos.models import Photo
from photoservice.photos.object_keys import original_key, stored_keys
from tests.media.images import DENVER, jpeg
from tests.support import NEW_YORK, in_store, load_photo, store_deletions, upload

NEW_YORK_EXIF = {"timestamp": 1732790400000, **NEW_YORK}


def site(n, jitter=0.0):
    """GPS exif for site `n` (sites ~1 km apart); `jitter` moves it a few metres."""
    return {"timestamp": 1732790400000 + n, "latitude": 39.0 + n * 0.01 + jitter,
            "longitude": -104.0 - jitter}


def nominatim_settings(stub, **extra):
    settings = dict(GEOCODER="nominatim", NOMINATIM_DOMAIN=stub.domain, NOMINATIM_SCHEME="http",
                    GEOCODER_TIMEOUT=5, GEOCODER_MAX_RPS=50)
    return {**settings, **extra}


def test_worker_fills_in_capture_date_location_and_job(as_user, company, start_worker, wait_processed):
    start_worker(concurrency=2)
    owner = as_user("owner")
    item = company["job_inspection_line_item"]
    ids = [owner.create(exif=NEW_YORK_EXIF, job_inspection_line_item=item)["id"] for _ in range(3)]
    for photo in wait_processed(ids):
        assert photo.processing_status == "processed"
        assert photo.captured_at.isoformat() == "2024-11-28T10:40:00+00:00"
        assert (photo.latitude, photo.longitude) == (40.7128, -74.006)
        assert photo.location["city"] == "New York City" and photo.location["country_code"] == "US"
        assert photo.job_id == company["jobs"][0]
    shown = owner.get(f"/light/photos/{ids[0]}/").get_json()
    assert shown["processing_status"] == "processed" and shown["location"]["state"] == "New York"


def test_broker_outage_loses_nothing(app, as_user, redis_server, start_worker, wait_processed):
    start_worker(beat=True)
    owner = as_user("owner")
    redis_server.stop()
    try:
        started = time.monotonic()
        ids = [owner.create(exif=NEW_YORK_EXIF)["id"] for _ in range(5)]
        assert time.monotonic() - started < 15  # each create answers despite the outage
        with app.app_context():
            undispatched = db.session.execute(
                db.select(Photo.id).where(Photo.id.in_(ids), Photo.dispatched_at.is_(None))
            ).scalars().all()
        assert sorted(undispatched) == sorted(ids)
    finally:
        redis_server.start()
    ids.append(owner.create(exif=NEW_YORK_EXIF)["id"])  # the web process reconnects by itself
    photos = wait_processed(ids, timeout=90)
    assert all(p.processing_status == "processed" and p.location for p in photos)


def test_worker_killed_mid_task_is_redelivered(as_user, nominatim_stub, start_worker, wait_processed):
    nominatim_stub.script = [("sleep", 2.5)]
    worker = start_worker(**nominatim_settings(nominatim_stub, GEOCODER_TIMEOUT=3))
    photo_id = as_user("owner").create(exif=NEW_YORK_EXIF)["id"]
    deadline = time.monotonic() + 30
    while not nominatim_stub.requests:  # the task is now inside the geocoder call
        assert time.monotonic() < deadline, "the task never reached the geocoder"
        time.sleep(0.05)
    children = worker.children()
    assert len(children) == 1
    os.kill(children[0], signal.SIGKILL)
    [photo] = wait_processed([photo_id], timeout=60)
    assert photo.processing_status == "processed"
    assert photo.location["city"] == "Springfield"
    assert len(nominatim_stub.requests) >= 2


def test_hundred_photos_at_one_site_cost_one_geocoder_call(as_user, nominatim_stub, start_worker,
                                                           wait_processed):
    settings = nominatim_settings(nominatim_stub)
    start_worker(concurrency=2, **settings)
    start_worker(concurrency=2, **settings)
    owner = as_user("owner")
    # Within ~20 m of each other: one roof.
    ids = [owner.create(exif=site(0, jitter=(n % 10) * 0.00002))["id"] for n in range(100)]
    photos = wait_processed(ids, timeout=120)
    assert all(p.location and p.location["city"] == "Springfield" for p in photos)
    assert len(nominatim_stub.requests) == 1


def test_rate_limit_holds_across_worker_processes(as_user, nominatim_stub, start_worker, wait_processed):
    settings = nominatim_settings(nominatim_stub, GEOCODER_MAX_RPS=4)
    start_worker(concurrency=2, **settings)
    start_worker(concurrency=2, **settings)
    owner = as_user("owner")
    ids = [owner.create(exif=site(n))["id"] for n in range(12)]
    wait_processed(ids, timeout=120)
    arrivals = sorted(t for t, *_ in nominatim_stub.requests)
    assert len(arrivals) == 12
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    assert min(gaps) >= 0.25 - 0.02, gaps


def test_transient_failures_are_retried_honouring_retry_after(as_user, nominatim_stub, start_worker,
                                                              wait_processed):
    nominatim_stub.script = [("status", 503, {}), ("status", 429, {"Retry-After": "2"})]
    start_worker(**nominatim_settings(nominatim_stub))
    [photo] = wait_processed([as_user("owner").create(exif=NEW_YORK_EXIF)["id"]], timeout=60)
    assert photo.processing_status == "processed" and photo.location["postal_code"] == "62701"
    times = [t for t, *_ in nominatim_stub.requests]
    assert len(times) == 3
    assert times[2] - times[1] >= 2.0 - 0.05  # waited out the Retry-After


def test_permanent_failure_is_recorded(as_user, nominatim_stub, start_worker, wait_processed):
    nominatim_stub.default = ("status", 403, {})
    start_worker(**nominatim_settings(nominatim_stub))
    [photo] = wait_processed([as_user("owner").create(exif=NEW_YORK_EXIF)["id"]])
    assert photo.processing_status == "processing_failed"
    assert "refused" in photo.processing_error
    assert photo.captured_at is not None  # the rest of the work is kept
    assert len(nominatim_stub.requests) == 1


def test_retries_run_out_into_a_recorded_failure(as_user, nominatim_stub, start_worker, wait_processed):
    nominatim_stub.default = ("status", 503, {})
    start_worker(**nominatim_settings(nominatim_stub, PROCESSING_MAX_ATTEMPTS=3))
    [photo] = wait_processed([as_user("owner").create(exif=NEW_YORK_EXIF)["id"]], timeout=60)
    assert photo.processing_status == "processing_failed"
    assert "Gave up after 3 tries" in photo.processing_error
    assert len(nominatim_stub.requests) == 3


def test_database_lost_mid_task_is_retried_until_it_is_back(as_user, database_url, database_admin_url,
                                                            nominatim_stub, start_worker, wait_processed):
    nominatim_stub.script = [("sleep", 2)]
    start_worker(**nominatim_settings(nominatim_stub, GEOCODER_TIMEOUT=5, PROCESSING_MAX_ATTEMPTS=30))
    photo_id = as_user("owner").create(exif=NEW_YORK_EXIF)["id"]
    deadline = time.monotonic() + 30
    while not nominatim_stub.requests:  # the task now holds a transaction open
        assert time.monotonic() < deadline, "the task never reached the geocoder"
        time.sleep(0.05)
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(database_admin_url, autocommit=True) as admin:
        # Drop every connection to the database and refuse new ones for a while.
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = %s AND pid <> pg_backend_pid()", [name])
        time.sleep(4)  # the geocoder answered meanwhile; the worker cannot save it
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    [photo] = wait_processed([photo_id], timeout=90)
    assert photo.processing_status == "processed", photo.processing_error
    assert photo.location["city"] == "Springfield"


def test_worker_reads_the_file_itself_on_the_media_queue(as_user, start_worker, wait_processed):
    start_worker(concurrency=2)
    crew = as_user("crew")
    photo = crew.create(name="Ridge vent")  # no client exif: the file says it all
    content = jpeg(1200, 900, orientation=6, taken=datetime(2024, 7, 4, 15, 30), gps=DENVER)
    assert upload(photo["upload_url"], content).status_code == 204
    assert crew.finalize(photo["id"]).status_code == 200
    [done] = wait_processed([photo["id"]])
    assert (done.media_status, done.processing_status) == ("processed", "processed")
    assert (done.width, done.height) == (900, 1200)
    assert done.captured_at.isoformat() == "2024-07-04T21:30:00+00:00" and done.captured_at_source == "file"
    assert done.location["city"] == "Denver"
    assert set(done.variants) == set(DERIVATIVES)


def test_broker_outage_at_finalize_delays_the_media_work(app, as_user, redis_server, start_worker,
                                                         wait_processed):
    start_worker(beat=True)
    crew = as_user("crew")
    photos = [crew.create(name=f"Eave {n}") for n in range(3)]
    wait_processed([p["id"] for p in photos])  # the metadata work is done before the outage
    for photo in photos:
        assert upload(photo["upload_url"], jpeg(640, 480)).status_code == 204
    redis_server.stop()
    try:
        for photo in photos:
            assert crew.finalize(photo["id"]).status_code == 200  # answers despite the outage
        with app.app_context():
            left = db.session.execute(db.select(Photo.id).where(
                Photo.id.in_([p["id"] for p in photos]), Photo.media_dispatched_at.is_(None))).scalars().all()
        assert len(left) == 3
    finally:
        redis_server.start()
    done = wait_processed([p["id"] for p in photos], timeout=90)
    assert all(p.media_status == "processed" and p.variants for p in done)


def wait_until(condition, timeout=60, what="the condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not hold within {timeout}s"
        time.sleep(0.2)


def processed_photo(caller, wait_processed):
    """A photo uploaded and finalized, its media work done: original and derivatives stored."""
    photo = caller.create(name="Ridge vent")
    assert upload(photo["upload_url"], jpeg(1200, 900)).status_code == 204
    assert caller.finalize(photo["id"]).status_code == 200
    [done] = wait_processed([photo["id"]])
    assert done.media_status == "processed"
    return photo, stored_keys(done)


def test_the_worker_removes_a_deleted_photos_files(app, as_user, start_worker, wait_processed):
    start_worker(concurrency=2)
    crew = as_user("crew")
    photo, keys = processed_photo(crew, wait_processed)
    kept, kept_keys = processed_photo(crew, wait_processed)
    assert all(in_store(app, key) for key in keys[1:] + kept_keys[1:])  # [0]: the upload, removed
    assert crew.delete(photo["id"]).status_code == 204
    assert crew.get(f"/light/photos/{photo['id']}/").status_code == 404
    wait_until(lambda: not any(in_store(app, key) for key in keys), what="the files going")
    # The late passes for the upload keys wait (the finalizes' and the delete's).
    wait_until(lambda: sorted(row.key for row in store_deletions(app)) == sorted(
        [photo["key"], photo["key"], kept["key"]]), what="the done rows going")
    assert all(in_store(app, key) for key in kept_keys[1:])


def test_a_store_outage_during_deletion_ends_with_the_files_gone(app, as_user, s3_store, start_worker,
                                                                  wait_processed):
    # Tries run out fast and the sweep sends the deletion again a second later.
    start_worker(beat=True, PROCESSING_MAX_ATTEMPTS=2, PROCESSING_REDISPATCH_AFTER=1)
    crew = as_user("crew")
    photo, keys = processed_photo(crew, wait_processed)
    kept, kept_keys = processed_photo(crew, wait_processed)
    s3_store.stop()
    try:
        assert crew.delete(photo["id"]).status_code == 204  # the request never waits on the store
        wait_until(lambda: any(row.last_error for row in store_deletions(app)), timeout=30,
                   what="a failed try recorded")
        assert {row.key for row in store_deletions(app)} >= set(keys)  # nothing dropped meanwhile
    finally:
        s3_store.start()
    assert all(in_store(app, key) for key in kept_keys[1:])  # the store kept its data
    wait_until(lambda: not any(in_store(app, key) for key in keys), what="the files going")
    wait_until(lambda: sorted(row.key for row in store_deletions(app)) == sorted(
        [photo["key"], photo["key"], kept["key"]]), what="the done rows going")


def test_beat_purges_an_abandoned_upload_and_its_file(app, as_user, start_worker):
    crew = as_user("crew")
    abandoned = crew.create(name="Never finalized")
    assert upload(abandoned["upload_url"], jpeg(640, 480)).status_code == 204
    uploaded = crew.upload_and_finalize(name="Finalized")
    start_worker(beat=True, PHOTO_PENDING_TTL=1)
    wait_until(lambda: load_photo(app, abandoned["id"]) is None, what="the purge")
    wait_until(lambda: not in_store(app, abandoned["key"]), what="the file going")
    assert load_photo(app, uploaded["id"]) is not None and in_store(app, original_key(uploaded["key"]))

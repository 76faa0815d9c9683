"""A photo's dispatch state: recorded failures, the sweep, the outbox markers, and
how the task sorts errors into retry and failure."""
from dataclasses import replace
from datetime import timedelta

from sqlalchemy.exc import InterfaceError

from photoservice.database import utcnow
from photoservice.photos import outbox
from photoservice.processing import services
from tests.support import NEW_YORK, load_photo, photo_columns
from workers.retries import UNEXPECTED

TIMESTAMP_MS = 1732790400123


def process(app, photo_id):
    with app.app_context():
        services.process_photo(photo_id)


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
    after = load_photo(app, photo_id)
    assert after.processing_status == "processing_failed"
    assert after.processing_error == "x" * 2000


def test_record_failure_never_overrides_a_processed_photo(app, as_user, offline):
    photo = as_user("owner").create(exif=NEW_YORK)
    process(app, photo["id"])
    before = photo_columns(load_photo(app, photo["id"]))

    with app.app_context():
        services.record_failure(photo["id"], "Gave up after 9 tries")

    assert photo_columns(load_photo(app, photo["id"])) == before
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
        due = outbox.due_for_dispatch()

    assert due == [never_sent, stale]
    after = load_photo(app, exhausted)
    assert after.processing_status == "processing_failed"
    assert after.processing_error == "Gave up after 3 attempts: none of them finished."
    for photo_id, status in ((fresh, "queued"), (retry_scheduled, "queued"),
                             (processed, "processed"), (failed, "processing_failed")):
        assert load_photo(app, photo_id).processing_status == status


def test_due_for_dispatch_respects_the_limit(app, make_photo):
    ids = [make_photo(dispatched_at=None) for _ in range(3)]
    with app.app_context():
        assert outbox.due_for_dispatch(limit=2) == ids[:2]


def test_mark_dispatched_takes_photos_out_of_the_sweep(app, make_photo):
    ids = [make_photo(dispatched_at=None) for _ in range(2)]
    with app.app_context():
        outbox.mark_dispatched(ids)
        assert outbox.due_for_dispatch() == []
    for photo_id in ids:
        assert abs(load_photo(app, photo_id).dispatched_at - utcnow()) < timedelta(minutes=1)


def test_mark_undispatched_leaves_the_photo_for_the_next_sweep(app, as_user):
    photo = as_user("owner").create()  # handed to the broker at create
    assert load_photo(app, photo["id"]).dispatched_at is not None
    with app.app_context():
        assert outbox.due_for_dispatch() == []
        outbox.mark_undispatched([photo["id"]])
        assert load_photo(app, photo["id"]).dispatched_at is None
        assert outbox.due_for_dispatch() == [photo["id"]]


def test_note_retry_holds_the_sweep_until_the_retry_is_due(app, make_photo, monkeypatch):
    monkeypatch.setitem(app.config, "PROCESSING_REDISPATCH_AFTER", 600)
    photo_id = make_photo(dispatched_at=utcnow() - timedelta(hours=1))
    with app.app_context():
        assert outbox.due_for_dispatch() == [photo_id]
        outbox.hold_for_retry(photo_id, 120)
        assert outbox.due_for_dispatch() == []
    expected = utcnow() + timedelta(seconds=120)
    assert abs(load_photo(app, photo_id).dispatched_at - expected) < timedelta(seconds=30)


def test_an_error_that_is_not_transient_fails_the_photo_at_once(app, make_photo, offline, monkeypatch):
    from workers import tasks

    photo_id = make_photo(exif={"timestamp": TIMESTAMP_MS, **NEW_YORK})

    def broken(exif):
        raise KeyError("GPSVersionID")

    monkeypatch.setattr(services, "coordinates_from_exif", broken)
    with app.app_context():
        result = tasks.process_photo.apply(args=[photo_id])

    assert result.failed() and "KeyError: 'GPSVersionID'" in str(result.result)  # Celery still sees it
    after = load_photo(app, photo_id)
    assert after.processing_status == "processing_failed"
    assert after.processing_error == UNEXPECTED  # the details are in the log
    assert after.processed_at is None


def test_a_dropped_connection_is_retried_not_failed(app, make_photo, monkeypatch):
    from workers import tasks

    photo_id, calls = make_photo(), []
    monkeypatch.setitem(app.config, "PROCESSING_MAX_ATTEMPTS", 3)

    def dropped(photo_id):
        calls.append(photo_id)
        raise InterfaceError("SELECT 1", {}, Exception("the connection is closed"))

    monkeypatch.setattr(tasks, "METADATA", replace(tasks.METADATA, run=dropped))
    with app.app_context():
        tasks.process_photo.apply(args=[photo_id])  # eager: retries run at once

    assert len(calls) == 3  # retried, not failed on the first error
    assert load_photo(app, photo_id).processing_error == "Gave up after 3 tries: the database was unavailable."

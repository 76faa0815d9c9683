"""How a task sorts its work's failures: retried (a dependency down, an attempt stopped by
the time limit) or failed at once, and what the row and the log say about it.

Eager calls: the retries run at once, in this process."""
import logging
from dataclasses import replace

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from geopy.exc import GeocoderServiceError

from photoservice.errors import DependencyUnavailable
from photoservice.geocoding.geocoders import GeocodingUnavailable
from tests.support import load_photo, store_deletions
from workers import retries, tasks

POINT_URL = "http://geo.example/reverse?lat=40.712812&lon=-74.006015&key=s3cr3t"


@pytest.fixture
def failing(app, monkeypatch):
    """`failing(kind, error)` → the calls: the kind of work (a Work in workers.tasks)
    now raises `error`, or what `error()` returns, on every try."""
    def make(kind, error):
        calls = []

        def run(subject):
            calls.append(subject)
            raise error() if callable(error) else error

        monkeypatch.setattr(tasks, kind, replace(getattr(tasks, kind), run=run))
        return calls
    return make


def stopped_inside_geopy():
    """What the soft limit becomes when it strikes inside a geocoder call."""
    try:
        try:
            raise SoftTimeLimitExceeded()
        except Exception as error:
            raise GeocoderServiceError(str(error))  # geopy's adapter wraps whatever it caught
    except GeocoderServiceError as error:
        try:
            raise GeocodingUnavailable(f"GeocoderServiceError: {error}") from error
        except GeocodingUnavailable as unavailable:
            return unavailable


@pytest.mark.parametrize("error", [SoftTimeLimitExceeded(), stopped_inside_geopy()])
def test_an_attempt_stopped_by_its_time_limit_is_retried_then_failed_clearly(
        app, make_photo, failing, monkeypatch, error):
    monkeypatch.setitem(app.config, "PROCESSING_MAX_ATTEMPTS", 3)
    photo_id = make_photo()
    calls = failing("METADATA", error)
    with app.app_context():
        tasks.process_photo.apply(args=[photo_id])
    assert len(calls) == 3  # retried like any transient failure, not failed at once
    photo = load_photo(app, photo_id)
    assert photo.processing_status == "processing_failed"
    assert photo.processing_error == "Gave up after 3 tries: the work took longer than 120 s."


def test_media_work_stopped_by_its_limit_names_the_media_limit(app, make_photo, failing, monkeypatch):
    monkeypatch.setitem(app.config, "PROCESSING_MAX_ATTEMPTS", 2)
    monkeypatch.setitem(app.config, "MEDIA_TIME_LIMIT", 900.0)
    photo_id = make_photo(media_status="queued")
    calls = failing("MEDIA", SoftTimeLimitExceeded)
    with app.app_context():
        tasks.process_media.apply(args=[photo_id])
    assert len(calls) == 2
    photo = load_photo(app, photo_id)
    assert (photo.media_status, photo.media_error) == (
        "failed", "Gave up after 2 tries: the work took longer than 900 s.")


def test_the_row_gets_a_stable_sentence_and_the_log_the_redacted_details(
        app, make_photo, failing, monkeypatch, caplog):
    monkeypatch.setitem(app.config, "PROCESSING_MAX_ATTEMPTS", 2)
    photo_id = make_photo()
    failing("METADATA", GeocodingUnavailable(f"GeocoderServiceError: 502 from {POINT_URL}"))
    with caplog.at_level(logging.INFO), app.app_context():
        tasks.process_photo.apply(args=[photo_id])
    assert load_photo(app, photo_id).processing_error == (
        "Gave up after 2 tries: the geocoder was unavailable.")
    assert "GeocodingUnavailable: GeocoderServiceError: 502 from http://geo.example/reverse?[redacted]" \
        in caplog.text
    assert "40.7128" not in caplog.text and "s3cr3t" not in caplog.text


def test_an_unexpected_error_fails_at_once_and_only_the_log_has_its_text(
        app, make_photo, failing, caplog):
    photo_id = make_photo()
    calls = failing("METADATA", lambda: KeyError("no GPSVersionID near 40.712812, -74.006015"))
    with caplog.at_level(logging.INFO), app.app_context():
        result = tasks.process_photo.apply(args=[photo_id])
    assert len(calls) == 1
    photo = load_photo(app, photo_id)
    assert photo.processing_status == "processing_failed"
    assert photo.processing_error == retries.UNEXPECTED
    # Celery sees the task fail, with the text redacted (its log, Flower).
    assert result.failed() and isinstance(result.result, retries.RedactedError)
    assert str(result.result) == "KeyError: 'no GPSVersionID near [redacted], [redacted]'"
    # The worker's log has the traceback, redacted.
    assert "Traceback (most recent call last)" in caplog.text and "in run" in caplog.text
    assert "40.712812" not in caplog.text


def test_a_store_deletion_keeps_a_stable_reason_and_waits_for_the_sweep(
        app, as_user, failing, monkeypatch):
    from photoservice.photos import deletions

    monkeypatch.setitem(app.config, "PROCESSING_MAX_ATTEMPTS", 2)
    photo = as_user("crew").create()
    with app.app_context():
        from photoservice.extensions import db
        ids = deletions.schedule_keys([photo["key"]])
        db.session.commit()
    calls = failing("STORE_DELETIONS", DependencyUnavailable(f"unreachable: {POINT_URL}"))
    with app.app_context():
        tasks.delete_stored_objects.apply(args=[ids])
    assert len(calls) == 2
    [row] = store_deletions(app)
    assert row.last_error == "Gave up after 2 tries: the object store was unavailable."


def test_one_try_reads_as_one(app, make_photo, failing, monkeypatch):
    monkeypatch.setitem(app.config, "PROCESSING_MAX_ATTEMPTS", 1)
    photo_id = make_photo()
    failing("METADATA", GeocodingUnavailable("down"))
    with app.app_context():
        tasks.process_photo.apply(args=[photo_id])
    assert load_photo(app, photo_id).processing_error == "Gave up after 1 try: the geocoder was unavailable."

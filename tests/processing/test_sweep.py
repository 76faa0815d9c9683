"""One sweep at a time: an advisory lock held for the sweep, whichever process runs it."""
import re
import secrets
import time

import psycopg
from sqlalchemy import update

from photoservice.extensions import db
from photoservice.photos.models import MediaStatus, Photo
from photoservice.work import KINDS
from photoservice.sweep_lock import SWEEP_LOCK_KEY, sweep_lock
from tests.processing.test_worker import NEW_YORK_EXIF
from tests.support import load_photo
from workers import tasks

ADVISORY_LOCKS = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"


def sweep(app):
    with app.app_context():
        result = tasks.sweep_processing.apply()
    assert result.successful(), result.traceback


def test_a_sweep_that_finds_another_running_does_nothing(app, make_photo, database_url):
    photo_id = make_photo(dispatched_at=None)  # work only the sweep sends
    with psycopg.connect(database_url) as other:  # another process, mid-sweep
        other.execute("SELECT pg_advisory_xact_lock(%s)", [SWEEP_LOCK_KEY])
        sweep(app)
        assert load_photo(app, photo_id).dispatched_at is None
    sweep(app)  # the other sweep has ended
    assert load_photo(app, photo_id).dispatched_at is not None


def test_the_lock_ends_with_the_sweep_even_when_it_fails(app, make_photo, database_url, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the purge broke")

    monkeypatch.setattr(tasks.lifecycle, "purge_abandoned", broken)
    with app.app_context():
        assert tasks.sweep_processing.apply().failed()
    with psycopg.connect(database_url) as observer:
        assert observer.execute(ADVISORY_LOCKS).fetchone() == (0,)  # not left on a pooled connection
    monkeypatch.undo()
    photo_id = make_photo(dispatched_at=None)
    sweep(app)
    assert load_photo(app, photo_id).dispatched_at is not None


def test_a_second_sweep_in_the_same_process_is_kept_out_too(app):
    with app.app_context(), sweep_lock() as first, sweep_lock() as second:
        assert (first, second) == (True, False)  # each holds its own connection


def left_for_the_sweep(app, company, count):
    """`count` uploaded photos whose metadata and media work were never sent (one commit)."""
    with app.app_context():
        photos = [Photo(company_id=company["id"], created_by=company["users"][0]["id"], name=f"Eave {n}",
                        key=f"eave_{n}_{secrets.token_hex(4)}.jpg", exif=NEW_YORK_EXIF,
                        media_status=MediaStatus.QUEUED.value) for n in range(count)]
        db.session.add_all(photos)
        db.session.flush()
        ids = [photo.id for photo in photos]
        db.session.execute(update(Photo).where(Photo.id.in_(ids)).values(
            dispatched_at=None, media_dispatched_at=None, original_key=Photo.key))
        db.session.commit()
    return ids


def test_two_beats_and_two_workers_send_each_piece_of_work_once(app, company, start_worker,
                                                                wait_processed):
    # Sweeps so frequent that several run at any moment when the work appears: without
    # the lock, this test sends some photos twice in every run.
    workers = [start_worker(concurrency=2, beat=True, PROCESSING_SWEEP_INTERVAL=0.05) for _ in range(2)]
    ids = left_for_the_sweep(app, company, 150)
    photos = wait_processed(ids, timeout=120)
    assert all(p.processing_status == "processed" and p.media_status == "failed" for p in photos)
    time.sleep(2)  # more rounds of both beats: nothing is sent again
    logs = [worker.log_path.read_text() for worker in workers]
    assert all("Sending due task sweep-photo-processing" in log for log in logs)  # both beats sweep
    # Sweep messages that waited behind the work expired and were dropped, not run in a burst.
    assert any("Discarding revoked task: workers.tasks.sweep_processing" in log for log in logs)
    for task in (KINDS["metadata"].task, KINDS["media"].task):
        sent = sum(len(re.findall(rf"Task {re.escape(task)}\[[^]]+\] received", log)) for log in logs)
        assert sent == len(ids), task
    assert {p.processing_attempts for p in photos} == {1}
    assert {p.media_attempts for p in photos} == {1}

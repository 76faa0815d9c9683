"""One sweep at a time: an advisory lock held for the sweep, whichever process runs it."""
import psycopg

from photoservice.sweep_lock import SWEEP_LOCK_KEY, sweep_lock
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

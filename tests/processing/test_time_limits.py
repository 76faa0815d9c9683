"""Tasks past their time limit, in a real worker: a geocoder that never answers.

The soft limit raises in the task, which records a failed attempt and retries like
any transient failure; the hard limit kills the child as a backstop, and the row's
outbox marker has the sweep send the work again."""
import json
import time

import psycopg
import redis

from tests.processing.test_worker import NEW_YORK_EXIF, nominatim_settings, wait_until
from tests.support import load_photo

# The geocoder's own timeout is longer than the task's limit: the limit stops the call.
HANGING = {"GEOCODER_TIMEOUT": 20, "TASK_TIME_LIMIT": 2}


def test_a_task_past_its_limit_is_retried_then_failed_with_a_clear_message(
        as_user, nominatim_stub, start_worker, wait_processed):
    nominatim_stub.default = ("sleep", 30)
    start_worker(**nominatim_settings(nominatim_stub, PROCESSING_MAX_ATTEMPTS=3, **HANGING))
    started = time.monotonic()
    [photo] = wait_processed([as_user("owner").create(exif=NEW_YORK_EXIF)["id"]], timeout=60)
    assert photo.processing_status == "processing_failed"
    assert photo.processing_error == "Gave up after 3 tries: the work took longer than 2 s."
    assert len(nominatim_stub.requests) == 3  # each try reached the geocoder and was stopped
    assert photo.processing_attempts == 3
    assert photo.captured_at is not None  # what the attempts worked out is kept
    assert time.monotonic() - started < 30  # about 1.5 s a try, plus the backoff


def test_a_task_killed_at_its_hard_limit_is_sent_again_by_the_sweep(
        app, as_user, database_url, nominatim_stub, start_worker, wait_processed):
    nominatim_stub.script = [("sleep", 30)]  # the first call hangs, the next one answers
    worker = start_worker(beat=True, **nominatim_settings(
        nominatim_stub, PROCESSING_REDISPATCH_AFTER=5, **HANGING))
    photo_id = as_user("owner").create(exif=NEW_YORK_EXIF)["id"]
    wait_until(lambda: nominatim_stub.requests, timeout=30, what="the call to the geocoder")
    with psycopg.connect(database_url) as blocker:
        # The soft limit's handler must write the photo's row to note the retry; it
        # waits on this lock, so only the hard limit ends the attempt: it kills the child.
        blocker.execute("SELECT 1 FROM photos WHERE id = %s FOR UPDATE", [photo_id])
        wait_until(lambda: b"Hard time limit (2.0s) exceeded" in worker.log_path.read_bytes(),
                   timeout=30, what="the hard limit")
        killed = load_photo(app, photo_id)
    assert (killed.processing_status, killed.processing_attempts) == ("processing", 1)  # counted
    [photo] = wait_processed([photo_id], timeout=60)
    assert photo.processing_status == "processed" and photo.location["city"] == "Springfield"
    assert photo.processing_attempts == 2
    first, second = (request[0] for request in nominatim_stub.requests)
    # Not redelivered at once: the sweep sent it again once its marker was stale.
    assert second - first >= 5 - 0.5
    assert b"swept metadata work: 1 sent to workers.tasks.process_photo" in worker.log_path.read_bytes()


def test_messages_leave_the_limits_to_the_worker(app, make_photo, redis_server):
    import workers.tasks  # noqa: F401  (registered here too, with this process's limits)
    from photoservice import queue

    client = redis.Redis.from_url(redis_server.url)
    client.delete("celery")
    with app.app_context():
        queue.enqueue("metadata", [make_photo()])
    [message] = client.lrange("celery", 0, -1)
    assert json.loads(message)["headers"]["timelimit"] == [None, None]

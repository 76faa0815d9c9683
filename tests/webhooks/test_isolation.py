"""Hanging receivers never delay photo work: deliveries run in worker processes of their
own (the Procfile's `webhooks`; tests/test_work.py holds the Procfiles to the table),
so while every one of them waits on a receiver that never finishes, another company's
photo is processed at once; and each of those attempts still ends at WEBHOOK_TIMEOUT,
in the Celery prefork child."""
import time
from datetime import timedelta

from tests.media.images import jpeg
from tests.support import upload

TIMEOUT = 15  # the default
WORKER = {"WEBHOOK_ALLOW_PRIVATE": "1", "WEBHOOK_TIMEOUT": str(TIMEOUT)}
#: How long another photo's work may take while the receivers hang (a few tasks).
PROMPT = 10


def finalize_photo(caller, name):
    photo = caller.create(name=name)
    assert upload(photo["upload_url"], jpeg(640, 480)).status_code == 204
    assert caller.finalize(photo["id"]).status_code == 200
    return photo


def test_hanging_receivers_never_delay_other_photos(as_user, other_company, register, raw_receiver,
                                                    start_worker, wait_processed, deliveries):
    hanging = raw_receiver("status")  # a status line a byte every 0.3 s, never done
    start_worker(concurrency=1, queues="celery,media", **WORKER)  # the Procfile's `worker` and `media`
    start_worker(concurrency=2, queues="webhooks", **WORKER)  # and its `webhooks`
    register(hanging.url(), ["photo.uploaded"])
    owner = as_user("owner")
    photos = [finalize_photo(owner, f"Hail {n}") for n in range(6)]
    wait_processed([p["id"] for p in photos])
    deadline = time.monotonic() + 10
    while hanging.connections < 2:  # both delivery processes are held
        assert time.monotonic() < deadline, "the deliveries never reached the receiver"
        time.sleep(0.05)

    started = time.monotonic()
    other = finalize_photo(as_user("owner", of=other_company), "Another company's roof")
    [done] = wait_processed([other["id"]], timeout=60)
    waited = time.monotonic() - started
    assert (done.processing_status, done.media_status) == ("processed", "processed")
    assert waited < PROMPT, f"another photo's work waited {waited:.1f} s"
    assert hanging.open >= 2  # while the receiver still held both delivery processes
    rows = deliveries()
    assert len(rows) == 6 and {r.status for r in rows} == {"pending"}

    # In the prefork child the deadline holds too: each attempt ended at 15 s and failed.
    deadline = time.monotonic() + TIMEOUT + 30
    while not [r for r in deliveries() if r.last_error]:
        assert time.monotonic() < deadline, "no attempt ended"
        time.sleep(0.2)
    for row in (r for r in deliveries() if r.last_error):
        assert row.last_error == f"Timed out after {TIMEOUT} s" and row.status == "pending"
        assert timedelta(seconds=TIMEOUT) <= row.updated_at - row.last_attempt_at \
            < timedelta(seconds=TIMEOUT + 2)

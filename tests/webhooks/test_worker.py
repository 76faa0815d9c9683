"""Deliveries end to end: a real worker (queue `webhooks`, beat for the sweep) POSTs to
a real local receiver, which checks every request with `standardwebhooks`."""
import os
import signal
import time

import psutil
from standardwebhooks import Webhook

from tests.media.images import jpeg
from tests.support import upload

WORKER = {"WEBHOOK_ALLOW_PRIVATE": "1"}


def events_received(receiver, secret):
    """(webhook-id, type, photo id) of each request, each verified as a receiver would."""
    found = []
    for request in receiver.requests:
        event = Webhook(secret).verify(request["body"], request["headers"])
        found.append((request["headers"]["webhook-id"], event["type"], event["data"]["id"]))
    return found


def sender(worker, port):
    """The worker's child process holding the connection from `port` (not beat's)."""
    for pid in worker.children():
        if any(c.laddr.port == port for c in psutil.Process(pid).net_connections(kind="tcp")):
            return pid
    raise AssertionError(f"no worker process sent from port {port}")


def upload_photo(caller, name):
    photo = caller.create(name=name)
    assert upload(photo["upload_url"], jpeg(640, 480)).status_code == 204
    return photo


def test_finalize_then_processing_reach_the_receiver(owner, register, receiver, start_worker,
                                                     wait_processed, wait_deliveries):
    start_worker(concurrency=2, **WORKER)
    endpoint = register(receiver.url)
    photo = upload_photo(owner, "Ridge cap")
    assert owner.finalize(photo["id"]).status_code == 200
    [done] = wait_processed([photo["id"]])
    assert (done.processing_status, done.media_status) == ("processed", "processed")
    wait_deliveries(2)
    time.sleep(2)  # time enough for a second photo.processed to show up, if one would
    received = events_received(receiver, endpoint["secret"])
    assert sorted(kind for _, kind, _ in received) == ["photo.processed", "photo.uploaded"]
    assert {photo_id for *_, photo_id in received} == {photo["id"]}
    processed = next(r for r in receiver.requests if b"photo.processed" in r["body"])
    assert b'"media_status":"processed"' in processed["body"] and b'"width":640' in processed["body"]


def test_a_broker_outage_loses_no_delivery(owner, register, receiver, redis_server, start_worker,
                                           wait_deliveries):
    start_worker(beat=True, **WORKER)
    endpoint = register(receiver.url, ["photo.uploaded"])
    photos = [upload_photo(owner, f"Gable {n}") for n in range(3)]
    redis_server.stop()
    try:
        for photo in photos:
            assert owner.finalize(photo["id"]).status_code == 200  # answers despite the outage
    finally:
        redis_server.start()
    rows = wait_deliveries(3, timeout=90)
    received = events_received(receiver, endpoint["secret"])
    assert {photo_id for *_, photo_id in received} == {p["id"] for p in photos}
    assert {message_id for message_id, *_ in received} == {r.message_id for r in rows}


def test_a_worker_killed_mid_delivery_loses_nothing(owner, register, receiver, start_worker,
                                                    wait_deliveries):
    receiver.script = [("sleep", 3)]
    worker = start_worker(beat=True, WEBHOOK_TIMEOUT=2, **WORKER)
    endpoint = register(receiver.url, ["photo.uploaded"])
    photo = upload_photo(owner, "Valley flashing")
    assert owner.finalize(photo["id"]).status_code == 200
    [request] = receiver.wait_for(1)  # the attempt is waiting on the receiver
    os.kill(sender(worker, request["client_port"]), signal.SIGKILL)
    [row] = wait_deliveries(1, timeout=60)
    received = events_received(receiver, endpoint["secret"])
    assert len(received) >= 2 and {r[0] for r in received} == {row.message_id}
    assert row.attempts >= 2

"""Events: delivery rows written in the transaction of the change, for the company's
subscribed, enabled endpoints; `photo.processed` exactly once."""
import threading

from sqlalchemy import update

from photoservice.extensions import db
from photoservice.photos.models import Photo
from photoservice.photos import events
from photoservice.webhooks import outbox
from photoservice.webhooks.models import WebhookDelivery
from tests.support import JPEG_STUB, upload

URL = "https://crm.example.com/hooks"


def finish_work(app, photo_id, processing="processed", media="processed"):
    """Both kinds of a photo's work end as given, as the tasks would leave the row."""
    with app.app_context():
        db.session.execute(update(Photo).where(Photo.id == photo_id).values(
            processing_status=processing, media_status=media))
        db.session.commit()


def announce(app, photo_id):
    with app.app_context():
        return events.announce_processed(photo_id)


def test_finalize_writes_one_delivery_per_subscribed_endpoint(app, owner, register, deliveries,
                                                              as_user, other_company):
    wanted = [register(URL + "/a", ["photo.uploaded"]), register(URL + "/b")]
    register(URL + "/c", ["photo.processed", "photo.deleted"])
    disabled = register(URL + "/d", ["photo.uploaded"])
    owner.client.patch(f"/light/webhooks/{disabled['id']}/", headers=owner.headers, json={"enabled": False})
    register(URL, ["photo.uploaded"], caller=as_user("owner", of=other_company))

    photo = owner.upload_and_finalize()
    rows = deliveries()
    assert sorted(r.endpoint_id for r in rows) == sorted(e["id"] for e in wanted)
    assert {r.event_type for r in rows} == {"photo.uploaded"}
    assert len({r.message_id for r in rows}) == 1  # one message, sent to each endpoint
    assert rows[0].payload == rows[1].payload
    assert rows[0].payload["data"]["id"] == photo["id"]
    assert all(r.status == "pending" and r.dispatched_at is not None for r in rows)

    assert owner.finalize(photo["id"]).status_code == 200  # a repeated finalize
    assert len(deliveries()) == 2


def test_the_event_carries_the_photo_as_stored_without_links(app, owner, register, deliveries):
    register(URL, ["photo.uploaded"])
    photo = owner.upload_and_finalize(name="Valley", exif={"timestamp": 1732790400000})
    payload = deliveries()[0].payload
    assert list(payload) == ["type", "timestamp", "data"]
    shown = owner.get(f"/light/photos/{photo['id']}/").get_json()
    links = {"variants", "download_url", "upload_url"}
    assert payload["data"] == {k: v for k, v in shown.items() if k not in links}
    assert list(payload["data"]) == [k for k in shown if k not in links]  # the API's order


def test_no_endpoint_no_rows(app, owner, deliveries):
    owner.upload_and_finalize()
    assert deliveries() == []


def test_processed_is_announced_once_when_both_kinds_of_work_are_done(app, owner, register, deliveries):
    register(URL, ["photo.processed"])
    photo = owner.upload_and_finalize()
    finish_work(app, photo["id"], processing="processed", media="queued")
    assert announce(app, photo["id"]) == []  # the media work is still running
    finish_work(app, photo["id"], processing="processed", media="failed")
    assert announce(app, photo["id"]) == [photo["id"]]
    assert announce(app, photo["id"]) == []
    [row] = deliveries(event_type="photo.processed")
    assert row.payload["data"]["media_status"] == "failed"
    assert row.payload["data"]["processing_status"] == "processed"


def test_processed_is_announced_once_when_both_tasks_finish_together(app, owner, register, deliveries):
    register(URL, ["photo.processed"])
    ids = [owner.upload_and_finalize(name=f"Hip {n}")["id"] for n in range(20)]
    for photo_id in ids:
        finish_work(app, photo_id)
    start = threading.Barrier(2)
    announced = []

    def task():
        start.wait()
        for photo_id in ids:
            announced.extend(announce(app, photo_id))

    threads = [threading.Thread(target=task) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(announced) == ids
    assert sorted(r.payload["data"]["id"] for r in deliveries(event_type="photo.processed")) == ids


def test_the_sweep_announces_what_a_dead_worker_left(app, owner, register, deliveries):
    register(URL, ["photo.processed"])
    done, running = owner.upload_and_finalize()["id"], owner.upload_and_finalize()["id"]
    finish_work(app, done)
    finish_work(app, running, media="queued")
    with app.app_context():
        assert events.announce_unannounced() == [done]
        assert events.announce_unannounced() == []
    assert [r.payload["data"]["id"] for r in deliveries(event_type="photo.processed")] == [done]


def test_a_broker_outage_leaves_deliveries_for_the_sweep(app, owner, register, deliveries, redis_server):
    register(URL, ["photo.uploaded"])
    photo = owner.create()
    assert upload(photo["upload_url"], JPEG_STUB).status_code == 204
    redis_server.stop()
    try:
        assert owner.finalize(photo["id"]).status_code == 200
    finally:
        redis_server.start()
    [row] = deliveries()
    assert row.dispatched_at is None
    with app.app_context():
        assert outbox.due_deliveries() == [row.id]


def test_emit_is_part_of_the_callers_transaction(app, company, make_photo, register):
    register(URL, ["photo.updated"])
    photo_id = make_photo()
    with app.app_context():
        photo = db.session.get(Photo, photo_id)
        assert len(events.emit(photo, "photo.updated")) == 1
        db.session.rollback()  # the change failed: no event either
        assert db.session.execute(db.select(WebhookDelivery)).scalars().all() == []


def test_a_change_and_a_deletion_are_announced_with_the_photo(app, owner, register, deliveries, monkeypatch):
    from photoservice import queue
    register(URL, ["photo.updated", "photo.deleted"])
    sent = []
    enqueue = queue.enqueue
    monkeypatch.setattr(queue, "enqueue", lambda kind, ids, countdown=None: sent.extend(ids)
                        if kind == "delivery" else enqueue(kind, ids, countdown))
    photo = owner.upload_and_finalize(name="Ridge")
    response = owner.client.patch(f"/light/photos/{photo['id']}/", headers=owner.headers,
                                  json={"name": "Ridge cap", "tags": ["hail"]})
    assert response.status_code == 200
    owner.client.patch(f"/light/photos/{photo['id']}/", headers=owner.headers, json={"name": "Ridge cap"})
    assert owner.client.delete(f"/light/photos/{photo['id']}/", headers=owner.headers).status_code == 204
    rows = deliveries()
    assert [r.event_type for r in rows] == ["photo.updated", "photo.deleted"]  # no change, no event
    assert rows[0].payload["data"]["name"] == "Ridge cap" and rows[0].payload["data"]["tags"] == ["hail"]
    assert rows[1].payload["data"]["id"] == photo["id"]
    assert sent == [r.id for r in rows]  # each queued once its transaction committed


def test_a_purged_upload_that_never_happened_is_not_announced(app, owner, register, deliveries, monkeypatch):
    from datetime import timedelta

    from photoservice.database import utcnow
    from photoservice.photos import lifecycle
    register(URL, ["photo.deleted"])
    photo = owner.create()
    with app.app_context():
        db.session.execute(update(Photo).where(Photo.id == photo["id"]).values(
            created_at=utcnow() - timedelta(days=3)))
        db.session.commit()
        assert lifecycle.purge_abandoned() == 1
    assert deliveries() == []

"""DELETE /light/photos/{id}/: gone for every reader at once; a worker empties the store."""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from photoservice import queue
from photoservice.database import utcnow
from photoservice.derivatives import DERIVATIVES
from photoservice.extensions import db
from photoservice.processing import media
from photoservice.photos import deletions, events
from photoservice.photos.models import StoreDeletion
from photoservice.photos.object_keys import derivative_key, stored_keys
from photoservice.work import KINDS
from tests.media.images import jpeg
from tests.support import (in_another_thread, in_store, load_photo, run_due_deletions, store_deletions,
                           upload)

CLOSED_PORT_URL = "http://127.0.0.1:9"

#: The objects a photo may have in the store: its upload, its original and each derivative.
OBJECTS = 2 + len(DERIVATIVES)


@pytest.fixture
def processed(app, as_user):
    """`processed(caller)` → (a photo uploaded by `caller`, with its original and derivatives
    in the store, the keys it may have), the upload object removed as the worker does."""
    def make(caller):
        photo = caller.create()
        assert upload(photo["upload_url"], jpeg(800, 600)).status_code == 204
        assert caller.finalize(photo["id"]).status_code == 200
        with app.app_context():
            media.process_media(photo["id"])
        assert run_due_deletions(app) == 1
        keys = stored_keys(load_photo(app, photo["id"]))
        # The upload is gone; the original and the derivatives are there.
        assert [in_store(app, key) for key in keys] == [False] + [True] * (OBJECTS - 1)
        return photo, keys
    return make


def test_a_deleted_photo_is_gone_for_every_reader_at_once(as_user):
    owner, employee, crew = as_user("owner"), as_user("employee"), as_user("crew")
    photo = crew.upload_and_finalize()
    response = crew.delete(photo["id"])
    assert response.status_code == 204 and response.data == b""
    for caller in (owner, employee, crew):
        assert caller.get(f"/light/photos/{photo['id']}/").status_code == 404
        assert photo["id"] not in [p["id"] for p in caller.get("/light/photos/").get_json()["results"]]
        assert caller.finalize(photo["id"]).status_code == 404
        assert caller.patch(photo["id"], {"name": "x"}).status_code == 404
    again, missing = crew.delete(photo["id"]), crew.delete(2_000_000_000)
    assert again.status_code == 404 and again.data == missing.data


def test_who_may_delete(as_user, second_crew):
    owner, employee, crew = as_user("owner"), as_user("employee"), as_user("crew")

    def status(caller, photo):
        return caller.delete(photo["id"]).status_code

    # Crew delete their own photos, pending or uploaded, and no one else's.
    assert status(second_crew, crew.upload_and_finalize()) == 404
    assert status(crew, owner.upload_and_finalize()) == 404
    assert status(crew, crew.create()) == 204
    assert status(crew, crew.upload_and_finalize()) == 204
    # Owners and employees delete every uploaded photo; a pending one is its creator's alone.
    assert status(owner, crew.upload_and_finalize()) == 204
    assert status(employee, owner.upload_and_finalize()) == 204
    assert status(owner, crew.create()) == 404


def test_the_objects_are_scheduled_in_the_same_transaction_and_queued_after_it(
        app, as_user, processed, monkeypatch):
    crew = as_user("crew")
    photo, keys = processed(crew)
    sent = []
    monkeypatch.setattr(queue, "send", lambda task, ids, countdown=None: sent.append(
        (task, ids, load_photo(app, photo["id"]) is None, [row.id for row in store_deletions(app)])))
    assert crew.delete(photo["id"]).status_code == 204
    # One task, sent once the photo was gone and the rows were committed.
    [(task, ids, photo_gone, committed)] = sent
    assert task == KINDS["store_deletion"].task and photo_gone and set(ids) <= set(committed)
    assert sorted(row.key for row in store_deletions(app) if row.id in ids) == sorted(keys)
    assert all(in_store(app, key) for key in keys[1:])  # the request never touched the store


def test_the_worker_removes_the_original_and_its_derivatives(app, as_user, processed):
    crew = as_user("crew")
    photo, keys = processed(crew)
    assert crew.delete(photo["id"]).status_code == 204
    assert run_due_deletions(app) == OBJECTS
    assert not any(in_store(app, key) for key in keys)
    # Done rows go; a late pass for the upload key waits out the upload policy (the
    # finalize wrote one too: the same key, the same time).
    finalized, late = store_deletions(app)
    assert (finalized.key, finalized.due_at) == (late.key, late.due_at)
    assert late.key == photo["key"] and late.dispatched_at is None
    last_policy_expires = utcnow() + timedelta(seconds=app.config["PHOTO_UPLOAD_EXPIRES"])
    assert last_policy_expires - timedelta(minutes=1) < late.due_at
    assert late.due_at <= last_policy_expires + deletions.LATE_PASS_MARGIN
    assert run_due_deletions(app) == 0  # repeating is harmless


def test_a_file_posted_after_the_deletion_goes_in_the_late_pass(app, as_user):
    crew = as_user("crew")
    photo = crew.create()
    assert crew.delete(photo["id"]).status_code == 204
    run_due_deletions(app)
    # The phone was offline: its upload arrives after the deletion, while the policy is valid.
    assert upload(photo["upload_url"], b"\xff\xd8\xff late").status_code == 204
    assert in_store(app, photo["key"])
    with app.app_context():
        assert deletions.due() == []  # not before every policy for the key has expired
        db.session.execute(update(StoreDeletion).values(due_at=utcnow()))
        db.session.commit()
        late_ids = deletions.due()
    assert len(late_ids) == 1
    with app.app_context():
        deletions.remove_objects(late_ids)
    assert not in_store(app, photo["key"]) and store_deletions(app) == []


def test_no_late_pass_once_every_policy_has_expired(app, as_user, make_photo):
    photo_id = make_photo(status="uploaded", uploaded_at=utcnow() - timedelta(days=1))
    with app.app_context():
        photo = load_photo(app, photo_id)
        ids = deletions.schedule([photo])
        db.session.commit()
    assert len(ids) == OBJECTS and len(store_deletions(app)) == OBJECTS


def test_a_store_outage_delays_the_removal_and_loses_nothing(app, as_user, processed, monkeypatch):
    from workers import tasks

    crew = as_user("crew")
    photo, keys = processed(crew)
    assert crew.delete(photo["id"]).status_code == 204
    due_ids = [row.id for row in store_deletions(app) if row.due_at <= utcnow()]
    monkeypatch.setitem(app.config, "PROCESSING_MAX_ATTEMPTS", 3)
    monkeypatch.setitem(app.config, "S3_ENDPOINT_URL", CLOSED_PORT_URL)  # the store is down
    with app.app_context():
        tasks.delete_stored_objects.apply(args=[due_ids])  # eager: the retries run at once
        assert deletions.due() == []  # left for the sweep, after PROCESSING_REDISPATCH_AFTER
    rows = {row.id: row for row in store_deletions(app)}
    assert all(rows[i].attempts == 3 and "Gave up after 3 tries" in rows[i].last_error for i in due_ids)

    monkeypatch.setitem(app.config, "S3_ENDPOINT_URL", app.config["S3_PUBLIC_ENDPOINT_URL"])  # back
    assert all(in_store(app, key) for key in keys[1:])  # the upload object went at finalize
    monkeypatch.setitem(app.config, "PROCESSING_REDISPATCH_AFTER", 0)
    with app.app_context():
        assert sorted(deletions.due()) == sorted(due_ids)
        tasks.delete_stored_objects.apply(args=[due_ids])
    assert not any(in_store(app, key) for key in keys)
    assert [row.key for row in store_deletions(app)] == [photo["key"]] * 2  # the late passes alone


def test_a_broker_outage_leaves_the_deletion_for_the_sweep(app, as_user, redis_server):
    crew = as_user("crew")
    photo = crew.upload_and_finalize()
    run_due_deletions(app)  # the upload object's removal, sent at finalize
    redis_server.stop()
    try:
        assert crew.delete(photo["id"]).status_code == 204
    finally:
        redis_server.start()
    due_now = [row for row in store_deletions(app) if row.due_at <= utcnow()]
    assert len(due_now) == OBJECTS and all(row.dispatched_at is None for row in due_now)
    with app.app_context():
        assert sorted(deletions.due()) == sorted(row.id for row in due_now)


def test_a_finalize_that_loses_the_race_with_a_delete_is_a_404(app, as_user, monkeypatch):
    from photoservice import storage

    crew = as_user("crew")
    photo = crew.create()
    assert upload(photo["upload_url"], b"\xff\xd8\xff" + b"0" * 100).status_code == 204
    real_read_head = storage.read_head

    def deleted_meanwhile(key, length, etag):
        assert in_another_thread(crew.delete, photo["id"]).status_code == 204
        return real_read_head(key, length, etag)

    monkeypatch.setattr(storage, "read_head", deleted_meanwhile)
    response = crew.finalize(photo["id"])
    assert response.status_code == 404 and response.get_json()["message"] == "Photo not found."


def test_media_work_that_loses_the_race_with_a_delete_leaves_nothing_behind(
        app, as_user, monkeypatch):
    from photoservice import storage

    crew = as_user("crew")
    photo = crew.create()
    assert upload(photo["upload_url"], jpeg(800, 600)).status_code == 204
    assert crew.finalize(photo["id"]).status_code == 200
    real_put, one_at_a_time = storage.put_object, threading.Lock()

    def deleted_before_the_derivatives_are_stored(key, data, content_type):
        with one_at_a_time:  # the derivatives are stored side by side: the first one deletes
            if load_photo(app, photo["id"]) is not None:
                assert in_another_thread(crew.delete, photo["id"]).status_code == 204
                run_due_deletions(app)  # the worker ran before this derivative was stored
        return real_put(key, data, content_type)

    monkeypatch.setattr(storage, "put_object", deleted_before_the_derivatives_are_stored)
    with app.app_context():
        assert media.process_media(photo["id"]) is None  # no error: the photo is gone
    keys = [photo["key"], *(derivative_key(photo["key"], name) for name in DERIVATIVES)]
    assert any(in_store(app, key) for key in keys)  # what it stored after the deletion
    run_due_deletions(app)
    assert not any(in_store(app, key) for key in keys)


def test_the_deletion_is_announced_inside_its_transaction(app, as_user, monkeypatch):
    crew = as_user("crew")
    photo = crew.create(name="Gone soon")
    announced = []
    monkeypatch.setattr(events, "photo_deleted", lambda deleted: announced.append(
        (deleted.id, deleted.name, deleted.key, load_photo(app, deleted.id) is not None)) or [])
    crew.delete(photo["id"])
    crew.delete(photo["id"])
    assert announced == [(photo["id"], "Gone soon", photo["key"], True)]

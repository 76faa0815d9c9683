"""A finalized photo's original never changes: finalize promotes the checked upload to a key
no policy names, and every reader (download, media work) gets exactly that object."""
import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from sqlalchemy import update

from photoservice import storage
from photoservice.database import utcnow
from photoservice.derivatives import DERIVATIVES
from photoservice.extensions import db
from photoservice.processing import media
from photoservice.photos import deletions, lifecycle
from photoservice.photos.models import Photo, StoreDeletion
from photoservice.photos.object_keys import derivative_key, original_key
from tests.media.images import jpeg, png
from tests.support import in_store, load_photo, run_due_deletions, store_deletions, upload

FIRST, SECOND = jpeg(800, 600), jpeg(640, 480, quality=70)


def sha256(content):
    return hashlib.sha256(content).hexdigest()


def download(caller, photo_id):
    return requests.get(caller.get(f"/light/photos/{photo_id}/").get_json()["download_url"], timeout=10)


def finalized(caller, content=FIRST, **fields):
    """A photo created by `caller`, `content` posted with its policy and finalized: (photo, finalized)."""
    photo = caller.create()
    assert upload(photo["upload_url"], content, fields=fields).status_code == 204
    response = caller.finalize(photo["id"])
    assert response.status_code == 200, response.get_json()
    return photo, response.get_json()


def test_a_post_after_finalize_changes_nothing_served(app, as_user):
    crew = as_user("crew")
    photo, done = finalized(crew)
    assert done["key"] == photo["key"] and load_photo(app, photo["id"]).original_key == original_key(photo["key"])
    # The policy is still valid for an hour: the store takes other bytes for the same key.
    assert upload(photo["upload_url"], SECOND).status_code == 204
    assert download(crew, photo["id"]).content == FIRST
    with app.app_context():
        media.process_media(photo["id"])
    processed = load_photo(app, photo["id"])
    assert processed.sha256 == sha256(FIRST) == sha256(download(crew, photo["id"]).content)
    assert (processed.width, processed.height) == (800, 600)  # the derivatives are of the first file
    assert crew.finalize(photo["id"]).get_json()["size"] == len(FIRST)


def test_the_upload_goes_now_and_a_late_post_in_the_late_pass(app, as_user):
    crew = as_user("crew")
    photo, done = finalized(crew)
    now, late = sorted(store_deletions(app), key=lambda row: row.due_at)
    assert now.key == late.key == photo["key"] and now.due_at <= utcnow() < late.due_at
    with app.app_context():
        uploaded_at = load_photo(app, photo["id"]).uploaded_at
        assert late.due_at == uploaded_at + timedelta(seconds=app.config["PHOTO_UPLOAD_EXPIRES"]) \
            + deletions.LATE_PASS_MARGIN
    assert run_due_deletions(app) == 1
    assert not in_store(app, photo["key"]) and in_store(app, original_key(photo["key"]))

    assert upload(photo["upload_url"], SECOND).status_code == 204  # late, with the create's policy
    with app.app_context():
        assert deletions.due() == []  # not before every policy for the key has expired
        db.session.execute(update(StoreDeletion).values(due_at=utcnow()))  # the clock moved on
        db.session.commit()
        assert deletions.remove_objects(deletions.due()) == 1
    assert not in_store(app, photo["key"]) and store_deletions(app) == []
    assert download(crew, photo["id"]).content == FIRST


@pytest.mark.parametrize("declared", ["image/svg+xml", "image/png"])
def test_downloads_carry_the_detected_type_never_the_declared_one(app, as_user, declared):
    crew = as_user("crew")
    # SeaweedFS lets a POST set these outside the policy; the original carries none of them.
    photo, done = finalized(crew, **{
        "Content-Type": declared, "Content-Disposition": "attachment; filename=page.html",
        "Cache-Control": "public, max-age=31536000"})
    assert done["content_type"] == "image/jpeg"
    fetched = download(crew, photo["id"])
    assert fetched.status_code == 200 and fetched.content == FIRST
    assert fetched.headers["Content-Type"] == "image/jpeg"
    assert "Content-Disposition" not in fetched.headers and "Cache-Control" not in fetched.headers
    with app.app_context():
        assert storage.stat_object(original_key(photo["key"])).content_type == "image/jpeg"


@pytest.mark.parametrize("step", ["read_head", "promote"])
def test_a_post_between_the_check_and_the_promotion_is_refused(app, as_user, monkeypatch, step):
    crew = as_user("crew")
    photo = crew.create()
    assert upload(photo["upload_url"], FIRST).status_code == 204
    real = getattr(storage, step)

    def posted_meanwhile(*args):
        assert upload(photo["upload_url"], png(640, 480)).status_code == 204
        monkeypatch.setattr(storage, step, real)
        return real(*args)

    monkeypatch.setattr(storage, step, posted_meanwhile)
    refused = crew.finalize(photo["id"])
    assert refused.status_code == 409
    assert refused.get_json()["message"] == \
        "The uploaded file changed while it was being checked; finalize again."
    assert crew.get(f"/light/photos/{photo['id']}/").get_json()["status"] == "pending_upload"
    assert not in_store(app, original_key(photo["key"])) and store_deletions(app) == []
    # Finalizing again checks what is there now, and that becomes the original.
    again = crew.finalize(photo["id"]).get_json()
    assert again["status"] == "uploaded" and again["content_type"] == "image/png"
    assert download(crew, photo["id"]).content == png(640, 480)


def test_a_delete_during_the_promotion_waits_and_leaves_nothing_behind(app, as_user, monkeypatch):
    crew = as_user("crew")
    photo = crew.create()
    assert upload(photo["upload_url"], FIRST).status_code == 204
    real, pool, deleting = storage.promote, ThreadPoolExecutor(1), []

    def deleted_during_the_copy(*args):
        deleting.append(pool.submit(crew.delete, photo["id"]))
        time.sleep(0.5)
        assert not deleting[0].done()  # held by the finalize's row lock
        return real(*args)

    monkeypatch.setattr(storage, "promote", deleted_during_the_copy)
    with pool:
        assert crew.finalize(photo["id"]).status_code == 200
        assert deleting[0].result(timeout=30).status_code == 204
    assert original_key(photo["key"]) in [row.key for row in store_deletions(app)]
    run_due_deletions(app)
    assert not in_store(app, photo["key"]) and not in_store(app, original_key(photo["key"]))


def test_delete_removes_the_original_the_upload_and_the_derivatives(app, as_user):
    crew = as_user("crew")
    photo, _ = finalized(crew)
    with app.app_context():
        media.process_media(photo["id"])
    run_due_deletions(app)
    assert upload(photo["upload_url"], SECOND).status_code == 204  # a late post, not yet removed
    key = photo["key"]
    keys = [key, original_key(key), *(derivative_key(key, name) for name in DERIVATIVES)]
    assert all(in_store(app, k) for k in keys)
    assert crew.delete(photo["id"]).status_code == 204
    assert run_due_deletions(app) == len(keys)
    assert not any(in_store(app, k) for k in keys)


def test_a_purge_removes_an_original_copied_by_a_finalize_that_never_committed(app, as_user):
    crew = as_user("crew")
    photo = crew.create()
    assert upload(photo["upload_url"], FIRST).status_code == 204
    with app.app_context():
        stored = storage.stat_object(photo["key"])
        storage.promote(photo["key"], original_key(photo["key"]), stored.etag, "image/jpeg")
        db.session.execute(update(Photo).where(Photo.id == photo["id"]).values(
            created_at=utcnow() - timedelta(seconds=app.config["PHOTO_PENDING_TTL"] + 60)))
        db.session.commit()
        assert lifecycle.purge_abandoned() == 1
    run_due_deletions(app)
    assert not in_store(app, photo["key"]) and not in_store(app, original_key(photo["key"]))


def test_a_photo_uploaded_before_originals_had_their_own_key(app, as_user, make_photo):
    owner = as_user("owner")
    photo_id = make_photo(status="uploaded", content_type="image/jpeg", size=len(FIRST),
                          uploaded_at=utcnow() - timedelta(days=30), media_status="queued")
    key = load_photo(app, photo_id).key
    with app.app_context():
        storage.put_object(key, FIRST, "image/svg+xml")  # the type its phone declared
        db.session.execute(update(Photo).where(Photo.id == photo_id).values(  # as migration 0007
            original_key=key, etag=storage.stat_object(key).etag))
        db.session.commit()
    fetched = download(owner, photo_id)
    assert fetched.content == FIRST and fetched.headers["Content-Type"] == "image/jpeg"
    with app.app_context():
        media.process_media(photo_id)
    processed = load_photo(app, photo_id)
    assert processed.media_status == "processed" and processed.sha256 == sha256(FIRST)
    assert owner.delete(photo_id).status_code == 204
    assert run_due_deletions(app) == 2 + len(DERIVATIVES) and store_deletions(app) == []  # no late pass
    assert not any(in_store(app, k) for k in (key, *(derivative_key(key, name) for name in DERIVATIVES)))


def test_a_photo_finalized_by_the_previous_release_is_served_from_its_upload(app, as_user, make_photo):
    """During a deploy, a web process of the previous release may finalize after migration
    0007 ran: the row has no original_key. It still downloads and gets its media work."""
    owner = as_user("owner")
    photo_id = make_photo(status="uploaded", content_type="image/jpeg", size=len(FIRST),
                          uploaded_at=utcnow(), media_status="queued")
    key = load_photo(app, photo_id).key
    with app.app_context():
        storage.put_object(key, FIRST, "image/jpeg")
    assert load_photo(app, photo_id).original_key is None
    assert download(owner, photo_id).content == FIRST
    with app.app_context():
        media.process_media(photo_id)
    processed = load_photo(app, photo_id)
    assert processed.media_status == "processed" and processed.sha256 == sha256(FIRST)

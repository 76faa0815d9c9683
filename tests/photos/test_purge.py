"""The periodic sweep purges abandoned uploads: photos pending past PHOTO_PENDING_TTL."""
import logging
from datetime import timedelta

import pytest
from sqlalchemy import update

from photoservice.database import utcnow
from photoservice.derivatives import DERIVATIVES
from photoservice.extensions import db
from photoservice.photos import events, lifecycle
from photoservice.photos.models import Photo
from photoservice.photos.object_keys import derivative_key, original_key
from tests.support import JPEG_STUB, in_store, load_photo, run_due_deletions, store_deletions, upload

TTL = 172800  # the default: two days


@pytest.fixture
def aged(app):
    """`aged(photo, seconds)`: the photo was created that many seconds ago."""
    def age(photo, seconds):
        with app.app_context():
            db.session.execute(update(Photo).where(Photo.id == photo["id"]).values(
                created_at=utcnow() - timedelta(seconds=seconds)))
            db.session.commit()
        return photo
    return age


def stored_pending(caller, **body):
    """A pending photo whose file reached the store but was never finalized."""
    photo = caller.create(**body)
    assert upload(photo["upload_url"], JPEG_STUB).status_code == 204
    return photo


def sweep(app):
    from workers import tasks

    with app.app_context():
        tasks.sweep_processing.apply()


def test_the_sweep_purges_abandoned_uploads_and_their_files(app, as_user, aged, caplog):
    crew = as_user("crew")
    abandoned = aged(stored_pending(crew, name="Abandoned"), TTL + 60)
    recent = aged(stored_pending(crew, name="Recent"), TTL - 60)
    old_uploaded = aged(crew.upload_and_finalize(name="Old but uploaded"), TTL * 10)
    run_due_deletions(app)  # its upload object, sent at finalize
    with caplog.at_level(logging.INFO, logger="workers.tasks"):
        sweep(app)
    assert "purged 1 pending photos" in caplog.messages
    assert load_photo(app, abandoned["id"]) is None
    assert crew.get(f"/light/photos/{abandoned['id']}/").status_code == 404
    assert load_photo(app, recent["id"]) is not None
    assert load_photo(app, old_uploaded["id"]) is not None

    # What the worker the sweep queued does: the upload, the original, each derivative.
    assert run_due_deletions(app) == 2 + len(DERIVATIVES)
    assert not in_store(app, abandoned["key"])
    assert in_store(app, recent["key"]) and in_store(app, original_key(old_uploaded["key"]))
    # A phone may still post to a policy renewed lately: a late pass follows.
    assert [row.key for row in store_deletions(app)] == [old_uploaded["key"], abandoned["key"]]


def test_the_ttl_is_a_setting(app, as_user, aged, monkeypatch):
    crew = as_user("crew")
    monkeypatch.setitem(app.config, "PHOTO_PENDING_TTL", 60)
    photo = aged(crew.create(), 120)
    with app.app_context():
        assert lifecycle.purge_abandoned() == 1
    assert load_photo(app, photo["id"]) is None


def test_a_purge_is_bounded(app, as_user, aged):
    crew = as_user("crew")
    photos = [aged(crew.create(), TTL + 60 + n) for n in range(3)]
    with app.app_context():
        assert lifecycle.purge_abandoned(limit=2) == 2
        assert lifecycle.purge_abandoned(limit=2) == 1
        assert lifecycle.purge_abandoned(limit=2) == 0
    assert all(load_photo(app, photo["id"]) is None for photo in photos)


def test_a_purge_takes_the_path_of_a_delete(app, as_user, aged, monkeypatch):
    crew = as_user("crew")
    photo = aged(crew.create(name="Never sent"), TTL + 60)
    announced = []
    monkeypatch.setattr(events, "photo_deleted", lambda deleted: announced.append(deleted.name) or [])
    with app.app_context():
        lifecycle.purge_abandoned()
    assert announced == ["Never sent"]
    assert sorted(row.key for row in store_deletions(app)) == sorted(
        [photo["key"], photo["key"], original_key(photo["key"]),
         *(derivative_key(photo["key"], name) for name in DERIVATIVES)])

"""Nothing of a resumable upload is left behind: the delete of a pending photo and the purge
of an abandoned one abort its open upload; the sweep aborts uploads no photo holds."""
import logging
import re
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select, update

from photoservice import multipart_store
from photoservice.database import utcnow
from photoservice.extensions import db
from photoservice.photos import lifecycle, multipart
from photoservice.photos.models import Photo, StoreDeletion
from photoservice.photos.object_keys import original_key
from tests.photos.test_multipart import open_uploads, part_urls, start
from tests.support import JPEG_STUB, run_due_deletions


def opened(caller):
    """A pending photo with an open upload holding one part: (photo, (key, upload id))."""
    photo = caller.create()
    upload_id = start(caller, photo["id"], len(JPEG_STUB)).get_json()["upload_id"]
    part = part_urls(caller, photo["id"], [1]).get_json()["parts"][0]
    assert requests.put(part["url"], data=JPEG_STUB, timeout=30).status_code == 200
    return photo, (original_key(photo["key"]), upload_id)


def test_deleting_a_pending_photo_aborts_its_upload(app, as_user):
    crew = as_user("crew")
    photo, upload = opened(crew)
    kept, other = opened(crew)
    assert crew.delete(photo["id"]).status_code == 204
    run_due_deletions(app)
    assert upload not in open_uploads(app) and other in open_uploads(app)


def test_the_abort_carries_the_id_of_the_delete_that_caused_it(app, as_user):
    crew = as_user("crew")
    photo, (key, upload_id) = opened(crew)
    response = crew.client.delete(f"/light/photos/{photo['id']}/",
                                  headers={**crew.headers, "X-Request-ID": "delete-1234"})
    assert response.status_code == 204
    with app.app_context():
        stored = db.session.scalars(select(StoreDeletion.request_id).where(
            StoreDeletion.upload_id == upload_id)).all()
    assert stored == ["delete-1234"]


def test_the_purge_aborts_an_abandoned_photos_upload(app, as_user):
    crew = as_user("crew")
    photo, upload = opened(crew)
    with app.app_context():
        db.session.execute(update(Photo).where(Photo.id == photo["id"]).values(
            created_at=utcnow() - timedelta(seconds=app.config["PHOTO_PENDING_TTL"] + 60)))
        db.session.commit()
        assert lifecycle.purge_abandoned() == 1
    run_due_deletions(app)
    assert upload not in open_uploads(app)


@pytest.fixture
def no_grace(monkeypatch):
    monkeypatch.setattr(multipart, "ORPHAN_GRACE", timedelta(0))


def test_the_sweep_aborts_uploads_no_photo_holds(app, as_user, no_grace, caplog):
    crew = as_user("crew")
    held, held_upload = opened(crew)
    with app.app_context():
        # A photo deleted before its upload was known, and an upload its photo replaced.
        orphan_key = "gone_0a0b0c0d.jpg.original.jpg"
        orphan = (orphan_key, multipart_store.create(orphan_key, "image/jpeg"))
        replaced = (held_upload[0], multipart_store.create(held_upload[0], "image/jpeg"))
    from workers import tasks
    with caplog.at_level(logging.INFO, logger="workers.tasks"), app.app_context():
        tasks.sweep_processing.apply()
    # Other tests' uploads may be counted too: the store lives for the whole run.
    assert any(re.fullmatch(r"aborted \d+ multipart uploads no pending photo holds", message)
               for message in caplog.messages)
    still_open = open_uploads(app)
    assert orphan not in still_open and replaced not in still_open and held_upload in still_open


def test_the_sweep_leaves_a_just_opened_upload_and_aborts_one_past_the_ttl(app, as_user, monkeypatch):
    crew = as_user("crew")
    _, upload = opened(crew)
    with app.app_context():
        multipart.abort_orphans()
        assert upload in open_uploads(app)  # within the grace, whoever holds it
        monkeypatch.setattr(multipart, "ORPHAN_GRACE", timedelta(0))
        multipart.abort_orphans()
        assert upload in open_uploads(app)  # its photo holds it
        monkeypatch.setitem(app.config, "PHOTO_PENDING_TTL", 0)
        assert multipart.abort_orphans() >= 1
    assert upload not in open_uploads(app)

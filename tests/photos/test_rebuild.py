"""photos.rebuild: media work queued again for uploaded photos, in committed batches.

Rows are inserted as the media work leaves them; what is handed to the broker is
caught at `queue.send`. One test runs the media work itself, to show a rebuilt
photo gets every size of the current table.
"""
import pytest
from kombu.exceptions import OperationalError
from sqlalchemy import delete, update

from photoservice import queue
from photoservice.derivatives import DERIVATIVES
from photoservice.extensions import db
from photoservice.photos.models import Photo
from photoservice.photos.object_keys import stored_keys
from photoservice.photos.rebuild import requeue_media
from photoservice.processing import media
from photoservice.work import KINDS
from tests.media.images import jpeg
from tests.support import finished_photo, in_store, load_photo, photo_columns, upload

MEDIA_TASK = KINDS["media"].task


@pytest.fixture
def sent(app, monkeypatch):
    """The media tasks handed to the broker, each with its photo's status when sent."""
    handed = []

    def send(task, *args, **options):
        if task == MEDIA_TASK:
            handed.append((task, *args, load_photo(app, args[0]).media_status))
    monkeypatch.setattr(queue, "send", send)
    return handed


def requeue(app, *args, **kwargs):
    with app.app_context():
        return list(requeue_media(*args, **kwargs))


def assert_requeued(app, photo_id):
    photo = load_photo(app, photo_id)
    assert (photo.media_status, photo.media_attempts, photo.media_error, photo.sha256) == (
        "queued", 0, None, None)
    assert photo.media_dispatched_at is not None  # with the broker: the sweep leaves it
    assert photo.variants  # the old ones are served until the new ones replace them


def test_finished_photos_are_requeued_in_batches_and_sent_after_each_commit(app, company, sent):
    finished = [finished_photo(app, company) for _ in range(4)]
    video = finished_photo(app, company, is_video=True)  # its poster's sizes come from the table too
    failed = finished_photo(app, company, media_status="failed", media_error="The file is empty.")
    batches = requeue(app, batch=4)
    assert [(b.requeued, b.last_id) for b in batches] == [(4, finished[3]), (2, failed)]
    for photo_id in [*finished, video, failed]:
        assert_requeued(app, photo_id)
    assert sent == [(MEDIA_TASK, photo_id, "queued") for photo_id in [*finished, video, failed]]


def test_photos_without_finished_image_work_are_left_as_they_are(app, company, sent):
    untouched = [finished_photo(app, company, status="pending_upload", media_status="waiting_upload"),
                 finished_photo(app, company, media_status="queued")]  # its work is on its way
    before = [photo_columns(load_photo(app, photo_id)) for photo_id in untouched]
    assert requeue(app) == []  # not one candidate: no batch
    assert [photo_columns(load_photo(app, photo_id)) for photo_id in untouched] == before
    assert sent == []


def test_a_company_filter_leaves_other_companies_untouched(app, company, other_company, sent):
    ours = [finished_photo(app, company) for _ in range(3)]
    theirs = [finished_photo(app, other_company) for _ in range(2)]
    before = [photo_columns(load_photo(app, photo_id)) for photo_id in theirs]
    assert sum(b.requeued for b in requeue(app, company_id=company["id"], batch=2)) == 3
    for photo_id in ours:
        assert_requeued(app, photo_id)
    assert [photo_columns(load_photo(app, photo_id)) for photo_id in theirs] == before
    assert [photo_id for _, photo_id, _ in sent] == ours


def test_a_photo_filter_requeues_that_photo_alone(app, company, other_company, sent):
    first, second = finished_photo(app, company), finished_photo(app, company)
    assert [b.requeued for b in requeue(app, photo_id=second)] == [1]
    assert_requeued(app, second)
    assert load_photo(app, first).media_status == "processed"
    # Both filters: the photo must be the company's.
    assert [b.requeued for b in requeue(app, company_id=other_company["id"], photo_id=first)] == []
    assert load_photo(app, first).media_status == "processed"
    assert [photo_id for _, photo_id, _ in sent] == [second]


def test_running_twice_requeues_what_finished_since_and_never_adds_rows(app, company, sent):
    photos = [finished_photo(app, company) for _ in range(3)]
    with app.app_context():
        count = db.session.query(Photo).count()
    assert sum(b.requeued for b in requeue(app)) == 3
    assert sum(b.requeued for b in requeue(app)) == 0  # their work is still queued
    with app.app_context():  # the media work of the first has ended since
        db.session.execute(update(Photo).where(Photo.id == photos[0]).values(media_status="processed"))
        db.session.commit()
    assert sum(b.requeued for b in requeue(app)) == 1
    with app.app_context():
        assert db.session.query(Photo).count() == count
    assert [photo_id for _, photo_id, _ in sent] == [*photos, photos[0]]


def test_a_photo_deleted_between_batches_is_no_error(app, company, sent):
    photos = [finished_photo(app, company) for _ in range(4)]
    with app.app_context():
        batches = requeue_media(batch=2)
        assert next(batches).requeued == 2
        db.session.execute(delete(Photo).where(Photo.id == photos[3]))
        db.session.commit()
        assert [b.requeued for b in batches] == [1]
    assert [photo_id for _, photo_id, _ in sent] == photos[:3]


def test_with_the_broker_down_the_sweep_is_left_to_send_them(app, company, monkeypatch):
    photos = [finished_photo(app, company) for _ in range(3)]

    def down(*args, **kwargs):
        raise OperationalError("Connection refused")
    monkeypatch.setattr(queue, "send", down)
    assert sum(b.requeued for b in requeue(app)) == 3
    for photo_id in photos:
        photo = load_photo(app, photo_id)
        assert photo.media_status == "queued" and photo.media_dispatched_at is None


def test_a_rebuilt_photo_gets_every_size_of_the_current_table(app, as_user, sent, monkeypatch):
    crew = as_user("crew")
    photo = crew.create()
    assert upload(photo["upload_url"], jpeg(2400, 1800)).status_code == 204
    assert crew.finalize(photo["id"]).status_code == 200
    with app.app_context():
        media.process_media(photo["id"])
    before = load_photo(app, photo["id"])
    assert set(before.variants) == set(DERIVATIVES)

    monkeypatch.setitem(DERIVATIVES, "extra", 200)
    assert [b.requeued for b in requeue(app)] == [1]
    with app.app_context():
        media.process_media(photo["id"])
    after = load_photo(app, photo["id"])
    assert after.media_status == "processed" and after.sha256 == before.sha256
    assert after.variants["extra"]["width"] == 200 and after.variants["extra"]["height"] == 150
    for name in before.variants:
        assert after.variants[name] == before.variants[name]
    assert all(in_store(app, variant["key"]) for variant in after.variants.values())
    assert after.variants["extra"]["key"] in stored_keys(after)  # a deletion removes it too

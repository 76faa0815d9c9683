"""Fair share between companies: a company has at most DISPATCH_PER_COMPANY media tasks
with the broker; the rest wait held back, sent as its tasks end or by the sweep."""
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import update

from photoservice import queue, request_ids
from photoservice.database import utcnow
from photoservice.extensions import db
from photoservice.photos import outbox
from photoservice.photos.models import Photo
from photoservice.photos.rebuild import requeue_media
from tests.support import JPEG_STUB, finished_photo, load_photo, upload
from workers import tasks

SHARE = 2


@pytest.fixture
def share(app, monkeypatch):
    monkeypatch.setitem(app.config, "DISPATCH_PER_COMPANY", SHARE)
    return SHARE


def queued(app, company, count, sent=True):
    """`count` uploaded photos of `company` whose media work is queued: with the broker
    (`sent`) or held back; each with its own request id."""
    with app.app_context():
        photos = [Photo(company_id=company["id"], created_by=company["users"][0]["id"], name=f"Eave {n}",
                        key=f"eave_{n}_{secrets.token_hex(4)}.jpg", status="uploaded", processing_status="processed",
                        media_status="queued",
                        media_request_id=f"req-{n}-{secrets.token_hex(2)}") for n in range(count)]
        db.session.add_all(photos)
        db.session.flush()
        ids = [photo.id for photo in photos]
        db.session.execute(update(Photo).where(Photo.id.in_(ids))
                           .values(media_dispatched_at=utcnow() if sent else None))
        db.session.commit()
        return ids


def published(monkeypatch):
    """The (task, photo id, request id) of each message `queue.send` publishes."""
    messages = []
    monkeypatch.setattr(queue, "send", lambda task, subject, countdown=None:
                        messages.append((task, subject, request_ids.current())))
    return messages


def media_sent(messages):
    return [subject for task, subject, _ in messages if task == tasks.KINDS["media"].task]


def finalized(api, app):
    photo = api.create()
    assert upload(photo["upload_url"], JPEG_STUB).status_code == 204
    response = api.finalize(photo["id"])
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_finalize_past_the_share_holds_its_media_work_back(app, company, other_company, as_user,
                                                             share, monkeypatch):
    messages = published(monkeypatch)
    queued(app, company, SHARE)
    held = finalized(as_user("owner"), app)
    assert media_sent(messages) == []
    assert load_photo(app, held["id"]).media_dispatched_at is None
    assert held["media_status"] == "queued"
    # Another company's photo goes at once, whatever this company has queued.
    other = finalized(as_user("owner", of=other_company), app)
    assert media_sent(messages) == [other["id"]]


def test_holding_back_and_claiming_leave_updated_at_as_the_finalize_answered(app, company, as_user,
                                                                               share, monkeypatch):
    messages = published(monkeypatch)
    running = queued(app, company, SHARE)
    api = as_user("owner")
    held = finalized(api, app)
    with app.app_context():
        tasks.process_media.apply(args=[running[0]])  # its end claims the held-back photo
    assert media_sent(messages) == [held["id"]]
    assert api.get(f"/light/photos/{held['id']}/").get_json()["updated_at"] == held["updated_at"]


def test_a_task_that_ends_sends_its_companys_held_back_work_with_its_own_request_id(
        app, company, share, monkeypatch):
    messages = published(monkeypatch)
    running = queued(app, company, SHARE)
    held = queued(app, company, 3, sent=False)
    with app.app_context():
        tasks.process_media.apply(args=[running[0]])  # ends (its file is not in the store)
    assert media_sent(messages) == [held[0]]
    assert messages[-1][2] == load_photo(app, held[0]).media_request_id  # the finalize's, not the task's
    assert load_photo(app, held[0]).media_dispatched_at is not None
    with app.app_context():  # the share is full again: a task on a finished photo sends nothing
        tasks.process_media.apply(args=[running[0]])
    assert media_sent(messages) == [held[0]]


def test_a_task_waiting_for_its_retry_keeps_its_place(app, company, share):
    running = queued(app, company, SHARE)
    queued(app, company, 2, sent=False)
    with app.app_context():
        outbox.hold_for_retry(running[0], 60, marker=outbox.MEDIA)
        assert outbox.claim_media_after(running[0]) == []


def test_the_sweep_sends_each_company_only_the_room_it_has(app, company, other_company, share):
    running = queued(app, company, 1)
    held = queued(app, company, 4, sent=False)
    lost = queued(app, other_company, 1)
    with app.app_context():
        long_ago = utcnow() - timedelta(seconds=app.config["PROCESSING_REDISPATCH_AFTER"] + 1)
        db.session.execute(update(Photo).where(Photo.id.in_(lost)).values(media_dispatched_at=long_ago))
        db.session.commit()
        assert outbox.due_for_media() == held[:SHARE - len(running)] + lost
        assert outbox.due_for_media() == []  # claimed: a second sweep sends none of them again


def test_the_sweep_sends_what_a_failed_claim_left(app, company, share, monkeypatch):
    published(monkeypatch)
    running = queued(app, company, SHARE)
    held = queued(app, company, 1, sent=False)
    monkeypatch.setattr(outbox, "claim_media", _database_gone)
    with app.app_context():
        tasks.process_media.apply(args=[running[0]])  # ended; its claim met an outage
    monkeypatch.undo()
    assert load_photo(app, running[0]).media_status == "failed"
    assert load_photo(app, held[0]).media_dispatched_at is None
    with app.app_context():
        assert outbox.due_for_media() == held


def _database_gone(company_id):
    raise ConnectionError("the database went away")


def test_a_rebuild_sends_each_company_only_its_share(app, company, other_company, share, monkeypatch):
    messages = published(monkeypatch)
    mine = [finished_photo(app, company) for _ in range(4)]
    theirs = [finished_photo(app, other_company)]
    with app.app_context():
        assert sum(batch.requeued for batch in requeue_media(batch=2)) == 5
    assert sorted(media_sent(messages)) == sorted(mine[:SHARE] + theirs)
    assert [load_photo(app, i).media_dispatched_at is None for i in mine] == [False] * SHARE + [True] * 2


def test_another_companys_photo_goes_before_a_backlog_drains(app, company, other_company, start_worker,
                                                             wait_processed, share):
    start_worker(DISPATCH_PER_COMPANY=str(SHARE))  # no beat: the claims alone drain the backlog
    backlog = queued(app, company, 30, sent=False)
    single = queued(app, other_company, 1, sent=False)
    with app.app_context():
        queue.send_claimed("media", outbox.claim_media(company["id"]))
        queue.send_claimed("media", outbox.claim_media(other_company["id"]))
    photos = wait_processed(backlog + single, timeout=60)
    ended = {p.id: p.updated_at for p in photos}
    assert {p.media_status for p in photos} == {"failed"}  # no file in the store: each ends
    after = sum(ended[i] > ended[single[0]] for i in backlog)
    assert after >= 20  # first in, first out would have made it the last of 31

"""Fair share between companies: a company has at most DISPATCH_PER_COMPANY tasks of a
kind with the broker; the rest wait undispatched, sent as its tasks end or by the sweep."""
import secrets

import pytest
from sqlalchemy import update

from photoservice import queue, request_ids
from photoservice.database import utcnow
from photoservice.extensions import db
from photoservice.photos import outbox
from photoservice.photos.models import Photo
from tests.support import load_photo
from workers import tasks

BOUND = 2


@pytest.fixture
def bounded(app):
    app.config["DISPATCH_PER_COMPANY"] = BOUND
    yield BOUND
    app.config["DISPATCH_PER_COMPANY"] = 8


def photos_of(app, company, count, **values):
    """`count` photos of `company` whose metadata work is due and marked handed over (as a
    create leaves them before its enqueue), each with its own request id."""
    with app.app_context():
        photos = [Photo(company_id=company["id"], created_by=company["users"][0]["id"], name=f"Eave {n}",
                        key=f"eave_{n}_{secrets.token_hex(4)}.jpg", request_id=f"req-{n}-{secrets.token_hex(2)}",
                        **values) for n in range(count)]
        db.session.add_all(photos)
        db.session.commit()
        return [photo.id for photo in photos]


def sent(monkeypatch):
    """The (task, photo id, request id) of each message `queue.send` publishes."""
    messages = []
    monkeypatch.setattr(queue, "send", lambda task, subject, countdown=None:
                        messages.append((task, subject, request_ids.current())))
    return messages


def test_an_enqueue_sends_each_company_only_its_share(app, company, other_company, bounded, monkeypatch):
    messages = sent(monkeypatch)
    burst = photos_of(app, company, 5)
    single = photos_of(app, other_company, 1)
    with app.app_context():
        queue.enqueue("metadata", burst + single)
    assert [subject for _, subject, _ in messages] == burst[:BOUND] + single
    assert [load_photo(app, i).dispatched_at is None for i in burst] == [False] * BOUND + [True] * 3
    with app.app_context():  # the company's share is taken: a new photo of it waits too
        queue.enqueue("metadata", photos_of(app, company, 1))
    assert len(messages) == BOUND + 1


def test_a_task_that_ends_sends_its_companys_next_work_with_its_request_id(app, company, bounded,
                                                                          monkeypatch):
    messages = sent(monkeypatch)
    burst = photos_of(app, company, 5)
    with app.app_context():
        queue.enqueue("metadata", burst)
        tasks.process_photo.apply(args=[burst[0]])
    assert [subject for _, subject, _ in messages] == burst[:BOUND] + [burst[BOUND]]
    assert messages[-1][2] == load_photo(app, burst[BOUND]).request_id  # the create's, not the task's
    assert load_photo(app, burst[BOUND]).dispatched_at is not None
    with app.app_context():  # a photo finished with its share full sends nothing more
        tasks.process_photo.apply(args=[burst[1]])
        tasks.process_photo.apply(args=[burst[1]])
    assert [subject for _, subject, _ in messages][BOUND + 1:] == [burst[BOUND + 1]]


def test_a_task_waiting_for_its_retry_keeps_its_place(app, company, bounded):
    burst = photos_of(app, company, 4)
    with app.app_context():
        queue.enqueue("metadata", burst)
        outbox.hold_for_retry(burst[0], 60)
        assert outbox.top_up(burst[0], outbox.METADATA_UNFINISHED, outbox.METADATA) == []


def test_the_sweep_sends_each_company_only_the_room_it_has(app, company, other_company, bounded):
    burst = photos_of(app, company, 6, dispatched_at=None)
    single = photos_of(app, other_company, 1, dispatched_at=None)
    with app.app_context():
        db.session.execute(update(Photo).where(Photo.id.in_(burst + single)).values(dispatched_at=None))
        db.session.execute(update(Photo).where(Photo.id == burst[0]).values(dispatched_at=utcnow()))
        db.session.commit()
        assert outbox.due_for_dispatch() == burst[1:BOUND] + single  # burst[0] holds one place
        assert outbox.due_for_dispatch() == []  # claimed: a second sweep sends none of them again


def test_the_sweep_sends_what_a_lost_top_up_left(app, company, bounded, monkeypatch):
    sent(monkeypatch)  # no broker needed
    burst = photos_of(app, company, 4)
    with app.app_context():
        queue.enqueue("metadata", burst)
    monkeypatch.setattr(outbox.db.session, "execute", _broken_after_rollback(outbox.db.session.execute))
    with app.app_context():
        tasks.process_photo.apply(args=[burst[0]])  # processed; its top-up hit an outage
    monkeypatch.undo()
    assert load_photo(app, burst[0]).processing_status == "processed"
    assert load_photo(app, burst[BOUND]).dispatched_at is None
    with app.app_context():
        assert outbox.due_for_dispatch() == [burst[BOUND]]


def _broken_after_rollback(execute):
    """session.execute that fails once the task's work is done (its top-up's statements)."""
    def broken(statement, *args, **kwargs):
        if "count(" in str(statement):
            raise ConnectionError("the database went away")
        return execute(statement, *args, **kwargs)
    return broken


def test_another_companys_photo_goes_before_a_backlog_drains(app, company, other_company, start_worker,
                                                             wait_processed, bounded):
    start_worker(DISPATCH_PER_COMPANY=BOUND)  # no beat: the top-ups alone drain the backlog
    burst = photos_of(app, company, 40)
    single = photos_of(app, other_company, 1)
    with app.app_context():
        queue.enqueue("metadata", burst)
        queue.enqueue("metadata", single)
    photos = wait_processed(burst + single, timeout=60)
    finished = {p.id: p.processed_at for p in photos}
    assert {p.processing_status for p in photos} == {"processed"}
    after = sum(finished[i] > finished[single[0]] for i in burst)
    assert after >= 30  # first in, first out would have made it the last of 41

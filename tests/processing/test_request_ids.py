"""The sweep re-sends work with the request id stored with it; a task's lines carry it."""
import io
import logging

from photoservice import logs, request_ids
from photoservice.work import KINDS
from tests.processing.test_sweep import sweep
from workers import log_context


def test_the_sweep_resends_work_with_the_id_stored_with_it(app, make_photo, monkeypatch):
    created = make_photo(dispatched_at=None, request_id="router-create-7")
    unknown = make_photo(dispatched_at=None)  # no request behind it (or written before the column)
    sent = {}
    task = app.extensions["celery"].tasks[KINDS["metadata"].task]
    monkeypatch.setattr(task, "apply_async", lambda args, headers=None: sent.update({args[0]: headers}))
    sweep(app)
    assert sent[created] == {request_ids.MESSAGE_HEADER: "router-create-7"}
    assert sent[unknown][request_ids.MESSAGE_HEADER].startswith(request_ids.SWEEP)


def test_every_line_of_a_task_names_it_its_photo_and_its_request(app, make_photo, monkeypatch):
    photo_id = make_photo()
    buffer = io.StringIO()
    handler = logs.prepare(logging.StreamHandler(buffer), "text")
    logging.getLogger("workers").addHandler(handler)
    task = app.extensions["celery"].tasks[KINDS["metadata"].task]
    monkeypatch.setattr(task, "run", lambda photo_id: logging.getLogger("workers.tasks").warning("working"))
    try:
        with app.app_context():
            task.apply(args=[photo_id], headers={request_ids.MESSAGE_HEADER: "router-create-8"})
            task.apply(args=[photo_id])
    finally:
        logging.getLogger("workers").removeHandler(handler)
    sent, unsent = buffer.getvalue().splitlines()
    assert sent.endswith(f"working request_id=router-create-8 task={task.name} photo_id={photo_id}")
    assert f"request_id={request_ids.SWEEP}" in unsent
    assert request_ids.current() is None and log_context._bound == {}  # unbound after each

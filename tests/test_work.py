"""The kinds-of-work table: every place that names tasks, queues or worker queue lists
reads it, and the Procfiles (which cannot import Python) say what it says."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

from photoservice import queue, work

ROOT = Path(__file__).resolve().parent.parent
PROCFILES = ("Procfile", "Procfile.dev")


def procfile_queues(path):
    """{process: its worker's --queues} of a Procfile."""
    found = {}
    for line in (ROOT / path).read_text().splitlines():
        process, _, command = line.partition(":")
        match = re.search(r"--queues (\S+)", command)
        if match:
            found[process] = match.group(1)
    return found


@pytest.mark.parametrize("procfile", PROCFILES)
def test_each_procfile_worker_consumes_the_queues_the_table_gives_it(procfile):
    assert procfile_queues(procfile) == {process: work.queues(process) for process in work.processes()}


def test_make_dev_runs_every_worker_process():
    dev_processes = re.search(r"^DEV_PROCESSES := (.*)$", (ROOT / "Makefile").read_text(), re.M)
    assert set(work.processes()) <= set(dev_processes.group(1).split())


def test_the_queue_lists_cover_every_kind_once():
    lists = [work.queues(process).split(",") for process in work.processes()]
    every = [name for queues in lists for name in queues]
    assert sorted(every) == sorted(set(every))  # no queue consumed by two processes
    assert set(every) == {work.DEFAULT_QUEUE} | {kind.queue for kind in work.KINDS.values()}
    # Deliveries wait on other people's servers: a process of their own.
    assert work.queues("worker") == "celery" and work.queues("webhooks") == "webhooks"
    # Image work too: metadata work never waits for a pool process it holds.
    assert work.queues("media") == "media"


def test_the_command_prints_a_process_queue_list():
    out = subprocess.run([sys.executable, "-m", "photoservice.work", "queues", "webhooks"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert out == "webhooks\n"


def test_celery_routes_each_task_off_the_default_queue_to_its_kind_s_queue():
    assert work.task_routes() == {"workers.tasks.process_media": {"queue": "media"},
                                  "workers.tasks.deliver_webhook": {"queue": "webhooks"}}


def test_work_goes_one_id_a_task_or_in_batches_of_the_kind_s_size():
    assert work.batches(work.KINDS["metadata"], [1, 2]) == [(1, [1]), (2, [2])]
    store = work.KINDS["store_deletion"]
    ids = list(range(store.batch * 2 + 1))
    assert [len(covered) for _, covered in work.batches(store, ids)] == [store.batch, store.batch, 1]
    assert [subject for subject, _ in work.batches(store, ids)][-1] == [ids[-1]]


def test_every_kind_has_its_rows_registered_by_the_app(app):
    for name in work.KINDS:
        rows = work.rows(name)
        assert callable(rows.due) and callable(rows.mark_undispatched), name
    with pytest.raises(KeyError, match="no kind of work named 'video'"):
        work.register("video", due=None, mark_dispatched=None, mark_undispatched=None)


def test_the_app_refuses_a_kind_whose_module_registers_no_rows(monkeypatch):
    monkeypatch.setitem(work.KINDS, "poster", work.Kind("poster", "workers.tasks.make_poster",
                                                        "photoservice.errors"))
    with pytest.raises(LookupError, match="'poster' has no rows registered"):
        work.load_rows()


def test_a_broker_outage_leaves_what_was_not_sent_for_the_sweep(app, monkeypatch):
    store = work.KINDS["store_deletion"]
    sent, undispatched = [], []

    def send(task, subject, countdown=None):
        if sent:
            raise queue.BROKER_DOWN[0]("down")
        sent.append((task, subject))

    monkeypatch.setattr(queue, "send", send)
    rows = work.rows("store_deletion")
    monkeypatch.setitem(work._ROWS, "store_deletion", rows._replace(mark_undispatched=undispatched.extend))
    ids = list(range(store.batch + 5))
    with app.app_context():
        queue.enqueue("store_deletion", ids)
    assert sent == [(store.task, ids[:store.batch])]
    assert undispatched == ids[store.batch:]

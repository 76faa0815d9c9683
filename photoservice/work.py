"""The kinds of retried background work, declared once: the table everything else reads.

Each kind of work has rows (a photo, a store deletion, a delivery) with an outbox marker:
set when the work is handed to the broker, cleared when the broker refuses it, renewed
by the sweep that sends it again. From this table come the hand-off after commit
(`queue.enqueue`), the sweep (`workers.tasks`), Celery's routes and time limits
(`settings.celery_config`) and each worker process's `--queues` (Procfile,
Procfile.dev, tests; `python -m photoservice.work queues worker` prints them, and
tests/test_work.py holds the Procfiles to it).

This module imports no domain package: each kind names the module that owns its
rows, which registers the functions that read and mark them (`register`); the app
factory loads those modules (`load_rows`). The transport takes task names and ids.

Adding a retried kind: a line in KINDS; its rows' functions and `register` call in
the module it names; its task in `workers/tasks.py` (`run_with_retries`); its
caller's `queue.enqueue(kind, ids)`.
"""
import importlib
import sys
from dataclasses import dataclass
from typing import Callable, NamedTuple, Optional

#: The default Celery queue: quick work.
DEFAULT_QUEUE = "celery"
SWEEP_TASK = "workers.tasks.sweep_processing"


@dataclass(frozen=True)
class Kind:
    """One kind of work: its task, where it runs, how long it may take, how it is sent."""

    name: str
    task: str
    #: The module that owns the kind's rows and registers their functions.
    rows: str
    #: Heavy work (media) and work that waits on others' servers (webhooks) get queues
    #: of their own, so quick work never waits behind them.
    queue: str = DEFAULT_QUEUE
    #: The Procfile process whose worker consumes the queue.
    process: str = "worker"
    #: The setting giving the task's hard time limit, in seconds.
    time_limit: str = "TASK_TIME_LIMIT"
    #: Ids per task: None sends one id per task (its argument the id itself); a number
    #: sends lists of up to that many (a purge's hundreds of photos become a few tasks).
    batch: Optional[int] = None
    #: What the task's argument is, as its log lines name it.
    subject: str = "photo_id"


KINDS = {kind.name: kind for kind in (
    Kind("metadata", "workers.tasks.process_photo", "photoservice.photos.outbox"),
    # Media work may download and hash a 10 GiB video.
    # A process of its own too: metadata work never waits for a pool process that image
    # work holds, and operators size each apart (docs/performance.md, the burst).
    Kind("media", "workers.tasks.process_media", "photoservice.photos.outbox", queue="media",
         process="media", time_limit="MEDIA_TIME_LIMIT"),
    Kind("store_deletion", "workers.tasks.delete_stored_objects", "photoservice.photos.deletions",
         batch=100, subject="deletion_ids"),
    Kind("delivery", "workers.tasks.deliver_webhook", "photoservice.webhooks.outbox",
         queue="webhooks", process="webhooks", subject="delivery_id"),
)}


class Rows(NamedTuple):
    """How a kind's rows are read and marked; registered by the package that owns them."""

    due: Callable  # () -> ids the sweep sends: never handed over, or handed over long ago
    mark_dispatched: Callable  # (ids): handed to the broker just now
    mark_undispatched: Callable  # (ids): the broker refused them; the sweep sends them
    #: (subject, countdown): a retry is scheduled, the sweep waits; for kinds whose task
    #: runs through workers.retries.run_with_retries.
    note_retry: Optional[Callable] = None
    #: (ids) -> {id: the id of the request that queued its work, or None}: the sweep
    #: sends the work again with it (photoservice.request_ids).
    request_ids: Callable = lambda ids: {}
    #: (subject) -> ids just marked handed over: after a task on `subject` ends (or
    #: waits for its retry), the work its company's fair share held back and now has
    #: room for, which the task sends (workers.tasks). None: the kind has no share.
    claim_after: Optional[Callable] = None


_ROWS = {}


def register(name, **functions):
    """Declare how the rows of kind `name` are read and marked (see Rows)."""
    if name not in KINDS:
        raise KeyError(f"no kind of work named {name!r} in photoservice.work.KINDS")
    _ROWS[name] = Rows(**functions)


def load_rows():
    """Import each kind's rows module (the app factory does, at start), so every kind is
    registered before any work is sent; a kind its module leaves out is a LookupError."""
    for kind in KINDS.values():
        importlib.import_module(kind.rows)
        rows(kind.name)


def rows(name):
    """The registered row functions of kind `name`."""
    try:
        return _ROWS[name]
    except KeyError:
        raise LookupError(f"kind of work {name!r} has no rows registered: the module its "
                          "Kind names must call work.register, and be loaded (load_rows)") from None


def batches(kind, ids):
    """The task arguments that carry `ids`, with the ids each covers."""
    ids = list(ids)
    if kind.batch is None:
        return [(ident, [ident]) for ident in ids]
    return [(ids[start:start + kind.batch],) * 2 for start in range(0, len(ids), kind.batch)]


def subjects():
    """{task name: what its argument is, as log lines name it}."""
    return {kind.task: kind.subject for kind in KINDS.values()}


def time_limits():
    """{task name: setting of its hard time limit}, the sweep's included."""
    return {**{kind.task: kind.time_limit for kind in KINDS.values()}, SWEEP_TASK: "TASK_TIME_LIMIT"}


def task_routes():
    """Celery's task_routes: each task not on the default queue, to its queue."""
    return {kind.task: {"queue": kind.queue} for kind in KINDS.values() if kind.queue != DEFAULT_QUEUE}


def queues(process):
    """The queues the worker of a Procfile process consumes, comma-separated, as `--queues`
    takes them. The sweep runs on the default queue, so `worker` always has it."""
    names = [DEFAULT_QUEUE] if process == "worker" else []
    for kind in KINDS.values():
        if kind.process == process and kind.queue not in names:
            names.append(kind.queue)
    if not names:
        raise KeyError(f"no work runs in process {process!r}")
    return ",".join(names)


def processes():
    """The Procfile processes that run workers, in table order."""
    return list(dict.fromkeys(["worker"] + [kind.process for kind in KINDS.values()]))


if __name__ == "__main__":  # python -m photoservice.work queues PROCESS
    if sys.argv[1:2] != ["queues"] or len(sys.argv) != 3:
        sys.exit("usage: python -m photoservice.work queues PROCESS")
    print(queues(sys.argv[2]))

"""The media worker under test: start it, feed it, time it, watch its memory and CPU."""
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import redis

from bench import cpu
from devstack import process_table
from photoservice.work import KINDS

ROOT = Path(__file__).resolve().parent.parent
MEDIA_TASK, MEDIA_QUEUE = KINDS["media"].task, KINDS["media"].queue


def start(env):
    """One worker process on the `media` queue: prefork, one pool process.

    BENCH_WORKER_LOGLEVEL=INFO logs each task's own duration to bench/media-worker.log.
    """
    log = open(ROOT / "bench" / "media-worker.log", "wb")
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("celery")), "--app", "workers.worker:celery_app",
         "worker", "--concurrency", "1", "--queues", MEDIA_QUEUE, "--pool", "prefork",
         "--loglevel", os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING"),
         "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=log, stderr=log)


def media_statuses(app, ids):
    """({media_status: count}, errors of failed photos, when the last row was written)."""
    from photoservice.extensions import db
    from photoservice.photos.models import Photo

    with app.app_context():
        rows = db.session.execute(db.select(Photo.media_status, Photo.media_error, Photo.updated_at)
                                  .where(Photo.id.in_(ids))).all()
        db.session.rollback()
    counts = {}
    for status, _, _ in rows:
        counts[status] = counts.get(status, 0) + 1
    errors = [error for status, error, _ in rows if status == "failed"]
    return counts, errors, max(written for _, _, written in rows)


def process(app, ids, timeout, every=0.05, on_poll=None):
    """Queue the media work of `ids` and wait until all are processed; seconds taken.

    The broker is watched, cheaply: with late acks a message leaves `unacked` only
    once its task has returned. The time taken ends at the last write to the rows
    (the worker stamps `updated_at` on this machine's clock), not at the next poll.
    """
    broker = redis.Redis.from_url(app.config["REDIS_URL"])
    started = time.time()
    for photo_id in ids:
        app.extensions["celery"].send_task(MEDIA_TASK, args=[photo_id])
    deadline = time.monotonic() + timeout
    while True:
        if not broker.llen(MEDIA_QUEUE) and not broker.hlen("unacked"):
            counts, errors, last_write = media_statuses(app, ids)
            if errors:
                raise SystemExit(f"media work failed: {errors[0]}")
            if counts.get("processed") == len(ids):
                return last_write.timestamp() - started
        if time.monotonic() > deadline:
            counts = media_statuses(app, ids)[0]
            raise SystemExit(f"media work not finished within {timeout}s: {counts}")
        if on_poll:
            on_poll()
        time.sleep(every)


def rss_mb(pid, field="VmRSS"):
    """A memory figure of a process from /proc (VmRSS now, VmHWM its peak), in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.M)[1]) / 1024


def pool_child(worker, timeout=60):
    """The pid of the worker's one pool process."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = process_table.children(worker.pid)
        if found:
            return found[0]
        if worker.poll() is not None:
            raise SystemExit("the worker exited; see bench/media-worker.log")
        time.sleep(0.1)
    raise SystemExit("the worker started no pool process")


def peak_rss_mb(app, child, photo_id):
    """Peak resident set (MB) of the pool process `child` while it processes one photo."""
    # Writing 5 to clear_refs resets VmHWM to the current RSS; where that is refused,
    # VmHWM is the process's lifetime peak and only VmRSS polled every 20 ms counts.
    try:
        Path(f"/proc/{child}/clear_refs").write_text("5")
        reset = True
    except OSError:
        reset = False
    polled = [rss_mb(child)]
    process(app, [photo_id], timeout=300, every=0.02, on_poll=lambda: polled.append(rss_mb(child)))
    return max(*polled, rss_mb(child, "VmHWM") if reset else 0)


def requeue(app, ids):
    """Put processed photos back as finalize leaves them, for another round."""
    from photoservice.extensions import db
    from photoservice.photos.models import Photo

    with app.app_context():
        db.session.execute(db.update(Photo).where(Photo.id.in_(ids)).values(
            media_status="queued", media_attempts=0, media_error=None, media_processed_at=None,
            sha256=None, width=None, height=None, variants=None, captured_at=None,
            captured_at_source=None, latitude=None, longitude=None, location=None,
            location_error=None))
        db.session.commit()


def database_backends(admin_url, name):
    """The pids of the PostgreSQL backends serving database `name`."""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        return admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", (name,)).fetchall()


def stack_meter(worker, store, admin_url, name):
    """CPU of the worker's parent (the consumer) and pool process, SeaweedFS, the
    benchmark database's PostgreSQL backends and this process (which sends and polls)."""
    return cpu.Meter({"worker child": lambda: cpu.tree(worker.pid)[1:],
                      "worker parent": lambda: [worker.pid], "SeaweedFS": lambda: [store.process.pid],
                      "PostgreSQL": lambda: [pid for (pid,) in database_backends(admin_url, name)],
                      "this process (send, poll)": lambda: [os.getpid()]})

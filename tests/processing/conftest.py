"""Real Celery worker processes for the pipeline tests."""
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

import photoservice.geocoding.geocoders as geocoding

from photoservice import work
from photoservice.extensions import db
from photoservice.photos.models import MediaStatus, Photo, ProcessingStatus

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))
DONE = (ProcessingStatus.PROCESSED.value, ProcessingStatus.FAILED.value)
# Media work is done, failed, or not due (the photo was never uploaded).
MEDIA_DONE = (MediaStatus.PROCESSED.value, MediaStatus.FAILED.value, MediaStatus.WAITING_UPLOAD.value)
#: Every queue: one worker does all the work unless a test splits it.
ALL_QUEUES = ",".join(work.queues(process) for process in work.processes())


class Worker:
    """`celery worker` in a subprocess, logging to a file the test can read."""

    def __init__(self, env, log_path, concurrency, beat, schedule_path, queues=ALL_QUEUES):
        self.log_path = log_path
        command = [CELERY, "--app", "workers.worker:celery_app", "worker", "--loglevel", "INFO",
                   "--concurrency", str(concurrency), "--pool", "prefork",
                   "--hostname", f"{log_path.stem}@%h", "--without-gossip", "--without-mingle",
                   "--queues", queues]
        if beat:
            command += ["--beat", "--schedule", str(schedule_path)]
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while b" ready." not in self.log_path.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("worker did not start:\n" + self.log_path.read_text()[-3000:])
            time.sleep(0.1)
        return self

    def children(self):
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True)
        return [int(pid) for pid in out.stdout.split()]

    def stop(self):
        # Warm shutdown first; a worker holding retries with a countdown would wait
        # them out, so then a cold one (acks_late: its tasks go back to the queue).
        for sig, patience in ((signal.SIGTERM, 5), (signal.SIGQUIT, 10), (signal.SIGKILL, 10)):
            if self.process.poll() is not None:
                break
            self.process.send_signal(sig)
            try:
                self.process.wait(patience)
            except subprocess.TimeoutExpired:
                continue
        self.log.close()


@pytest.fixture
def start_worker(app, app_env, redis_server, tmp_path):
    """`start_worker(concurrency=1, beat=False, queues=ALL_QUEUES, **settings)` → a ready
    Worker (`queues`: comma-separated, as the Procfile's processes split them)."""
    redis.Redis.from_url(redis_server.url).flushdb()  # no messages left by other tests
    workers = []

    def start(concurrency=1, beat=False, queues=ALL_QUEUES, **settings):
        env = app_env(**{"PROCESSING_SWEEP_INTERVAL": "0.5", **settings})
        worker = Worker(env, tmp_path / f"worker{len(workers)}.log", concurrency, beat,
                        tmp_path / f"beat{len(workers)}", queues)
        workers.append(worker)
        return worker.wait_ready()

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def wait_processed(app):
    """`wait_processed(ids)` → the photos once their background work has finished."""
    def wait(photo_ids, timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            with app.app_context():
                photos = db.session.execute(
                    db.select(Photo).where(Photo.id.in_(photo_ids))).scalars().all()
                db.session.expunge_all()
            if len(photos) == len(photo_ids) and all(
                    p.processing_status in DONE and p.media_status in MEDIA_DONE for p in photos):
                return sorted(photos, key=lambda p: p.id)
            if time.monotonic() > deadline:
                states = {p.id: (p.processing_status, p.media_status) for p in photos}
                raise AssertionError(f"photos not processed in {timeout}s: {states}")
            time.sleep(0.1)
    return wait


@pytest.fixture
def geocoder_settings(app, monkeypatch):
    """`geocoder_settings(GEOCODER=...)` switches settings; the per-process geocoder follows."""
    def switch(**settings):
        for name, value in settings.items():
            monkeypatch.setitem(app.config, name, value)
        geocoding._runtime.cache_clear()

    geocoding._runtime.cache_clear()
    yield switch
    geocoding._runtime.cache_clear()


@pytest.fixture
def offline(geocoder_settings):
    geocoder_settings(GEOCODER="offline")


@pytest.fixture
def counted_geocoder_calls(app, offline, monkeypatch):
    """The points this process's geocoder is asked about, in order."""
    calls = []
    with app.app_context():
        geocoder, _gate = geocoding.runtime()
    real_reverse = geocoder.reverse

    def counting_reverse(query, **kwargs):
        calls.append(query)
        return real_reverse(query, **kwargs)

    monkeypatch.setattr(geocoder, "reverse", counting_reverse)
    return calls

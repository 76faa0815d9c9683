"""One geocoder call at a time, at most N a second, across every worker process.

geopy's RateLimiter works per process; a worker with several children would
break a provider's limit. The gate is shared: Redis when `REDIS_URL` is set,
else a lock file (one machine, as in `make dev`).
"""
import fcntl
import os
import time
from contextlib import contextmanager

import redis


class GateBusy(Exception):
    """The gate could not be entered in time; try again later."""


class RedisGate:
    """A Redis lock plus the start time of the last call, shared by all hosts."""

    def __init__(self, url, name="photoservice:geocoder", hold_seconds=60, wait_seconds=30):
        self.redis = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self.name, self.hold_seconds, self.wait_seconds = name, hold_seconds, wait_seconds

    @contextmanager
    def exclusive(self):
        """Hold the gate; yields an object whose `wait_turn(interval)` paces calls."""
        lock = self.redis.lock(f"{self.name}:lock", timeout=self.hold_seconds,
                               blocking_timeout=self.wait_seconds)
        if not lock.acquire():
            raise GateBusy("another worker holds the geocoder")
        try:
            yield self
        finally:
            try:
                lock.release()
            except redis.exceptions.LockError:
                pass  # it expired while we held it; nothing left to release

    def wait_turn(self, interval):
        """Inside `exclusive()`: sleep until `interval` after the last call began."""
        seconds, micros = self.redis.time()  # one clock for every host
        now = seconds + micros / 1e6
        last = float(self.redis.get(f"{self.name}:last") or 0)
        if last + interval > now:
            time.sleep(last + interval - now)
            now = last + interval
        self.redis.set(f"{self.name}:last", repr(now), ex=max(1, int(interval) + 60))


class FileGate:
    """The same contract on one machine, through `flock` on a file."""

    def __init__(self, path, wait_seconds=30):
        self.path, self.wait_seconds = path, wait_seconds
        os.makedirs(os.path.dirname(path), exist_ok=True)

    @contextmanager
    def exclusive(self):
        with open(self.path, "a+") as handle:
            deadline = time.monotonic() + self.wait_seconds
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise GateBusy("another worker holds the geocoder") from None
                    time.sleep(0.01)
            try:
                yield _FileTurn(handle)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


class _FileTurn:
    """Held `FileGate`: the lock file also stores when the last call began."""

    def __init__(self, handle):
        self.handle = handle

    def wait_turn(self, interval):
        handle = self.handle
        handle.seek(0)
        last = float(handle.read() or 0)
        now = time.time()
        if last + interval > now:
            time.sleep(last + interval - now)
            now = last + interval
        handle.seek(0)
        handle.truncate()
        handle.write(repr(now))
        handle.flush()

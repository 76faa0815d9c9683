"""One geocoder call at a time, at most N a second, across every worker process.

geopy's RateLimiter works per process; a worker with several children would
break a provider's limit. The gate is shared by every worker through Redis.

Calls are spaced from the *end* of the previous call: however late a call is
sent or however slowly it travels, two calls never reach the provider closer
than the interval.
"""
import time
from contextlib import contextmanager

import redis


class GateBusy(Exception):
    """The gate could not be entered in time; try again later."""


class _Turn:
    """The holder's side of the gate: pace a call, remember when it ended."""

    def __init__(self, clock, read_last, write_last):
        self.clock, self.read_last, self.write_last = clock, read_last, write_last
        self.called = False

    def wait_turn(self, interval):
        """Sleep until `interval` after the previous call ended."""
        wait = self.read_last() + interval - self.clock()
        if wait > 0:
            time.sleep(wait)
        self.called = True

    def finish(self):
        if self.called:
            self.write_last(self.clock())


class RedisGate:
    """A Redis lock, and the end of the last call by Redis's clock, shared by all hosts."""

    def __init__(self, url, name="photoservice:geocoder", hold_seconds=60, wait_seconds=30):
        self.redis = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        self.name, self.hold_seconds, self.wait_seconds = name, hold_seconds, wait_seconds

    def _clock(self):
        seconds, micros = self.redis.time()  # one clock for every host
        return seconds + micros / 1e6

    @contextmanager
    def exclusive(self):
        """Hold the gate; yields a turn whose `wait_turn(interval)` paces the call."""
        lock = self.redis.lock(f"{self.name}:lock", timeout=self.hold_seconds,
                               blocking_timeout=self.wait_seconds)
        if not lock.acquire():
            raise GateBusy("another worker holds the geocoder")
        last_key = f"{self.name}:last"
        turn = _Turn(self._clock, lambda: float(self.redis.get(last_key) or 0),
                     lambda when: self.redis.set(last_key, repr(when), ex=3600))
        try:
            yield turn
        finally:
            turn.finish()  # failed calls count too: a 429 must not be followed at once
            try:
                lock.release()
            except redis.exceptions.LockError:
                pass  # it expired while we held it; nothing left to release

"""The deadline of one delivery attempt, and the watchdog that holds it.

Socket timeouts bound one operation each; a receiver that paces its bytes never
trips them. The watchdog is a thread that, once the deadline passes, shuts down
the socket of the connection the attempt is using: whatever the attempt's own
thread is blocked in (connect, a TLS handshake, sending the body, reading the
status line, headers or body) returns at once with an error or end of file. It
shuts it down again every RECUT_SECONDS until the attempt ends, since a TLS
handshake swaps the connection's socket object.

    with Deadline(15) as deadline:
        deadline.watch(connection)          # the connection in use, whenever it changes
        connect(timeout=deadline.remaining())
        ...
        timed_out = deadline.passed         # whatever the attempt saw, time ran out
"""
import socket
import threading
import time

RECUT_SECONDS = 0.2


class Deadline:
    """`seconds` from now; `public_only` is the attempt's address policy."""

    def __init__(self, seconds, public_only=True):
        self.seconds, self.public_only = seconds, public_only
        self.ends = time.monotonic() + seconds
        self.expired = False  # set by the watchdog before it cuts anything
        self._connection = None
        self._over = threading.Event()
        self._cutting = threading.Lock()  # no cut once the attempt is over: its connection
        # may be back in the pool, about to serve the next attempt
        self._watchdog = threading.Thread(target=self._watch, name="webhook-deadline", daemon=True)

    def __enter__(self):
        self._watchdog.start()
        return self

    def __exit__(self, *exc_info):
        with self._cutting:
            self._over.set()

    @property
    def sentence(self):
        """What a delivery records when the time ran out."""
        return f"Timed out after {self.seconds:g} s"

    @property
    def passed(self):
        return self.expired or time.monotonic() >= self.ends

    def remaining(self):
        """Seconds left, for a timeout; raises TimeoutError once there are none."""
        left = self.ends - time.monotonic()
        if left <= 0:
            raise TimeoutError(self.sentence)
        return left

    def watch(self, connection):
        """The connection (anything with a `sock`) the attempt uses from now on."""
        self._connection = connection
        if self.expired:
            self._cut()

    def _watch(self):
        wait = max(self.ends - time.monotonic(), 0)
        while not self._over.wait(wait):
            self.expired = True
            self._cut()
            wait = RECUT_SECONDS

    def _cut(self):
        with self._cutting:
            sock = None if self._over.is_set() else getattr(self._connection, "sock", None)
            if sock is not None:
                _shut_down(sock)


def _shut_down(sock):
    """End both directions of `sock` (not yet connected: the connect timeout is what
    was left). socket.socket's own shutdown, also on an SSLSocket: it leaves alone
    the TLS object the attempt's thread may be using."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass  # not connected, or closed already

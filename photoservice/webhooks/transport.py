"""One HTTP POST to a webhook receiver, over within WEBHOOK_TIMEOUT seconds in all.

`requests`' timeouts bound each socket operation, not the whole: a receiver that
sends its answer a byte every few seconds would hold a worker for hours. So each
attempt runs under a Deadline:

- a new connection resolves its host within what is left (ssrf.resolve), checks
  the addresses (public only, unless WEBHOOK_ALLOW_PRIVATE) and connects to
  exactly those, with what is left as its connect timeout;
- a watchdog thread shuts down the socket of the connection in use once the
  deadline passes: a send or receive blocked on it returns at once, in a Celery
  prefork child (tasks run in its main thread) as in a test, whether the
  connection is new or came from the keep-alive pool.

An answer counts if it arrived in time: status line, headers and the start of its
body that is kept (1 KB, or all of a shorter one). No redirects, no proxies.
Failures raise Unreachable with a stable short sentence; the exception it was
raised from holds the details, for the log.
"""
import http.client
import threading
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import NewConnectionError

from . import ssrf
from .deadline import Deadline
from .failures import FAILURES, failure_sentence

#: How much of a receiver's answer is kept.
RESPONSE_PREFIX_BYTES = 1024
USER_AGENT = "photoservice-webhooks/1.0"


class Unreachable(Exception):
    """No HTTP answer; the message is a stable short sentence, the cause the details."""


@dataclass(frozen=True)
class Reply:
    status_code: int
    retry_after: str | None
    body_prefix: str


# The attempt under way in this thread: its connections read their deadline here.
_running = threading.local()


class _Deadlined:
    """A urllib3 connection under the running attempt's deadline."""

    def connect(self):
        _running.deadline.watch(self)
        super().connect()

    def request(self, *args, **kwargs):
        _running.deadline.watch(self)  # a connection from the pool, or a new one
        super().request(*args, **kwargs)

    def _new_conn(self):
        deadline, host = _running.deadline, self._dns_host
        if deadline.public_only:
            addresses = ssrf.public_addresses(host, self.port, deadline.remaining())
        else:
            addresses = ssrf.resolve(host, self.port, deadline.remaining())
        failure = None
        for address in addresses:
            # urllib3 connects to `_dns_host`: the address just checked, so DNS cannot
            # answer something else now (TLS and the Host header still use the name).
            self._dns_host, self.timeout = address, deadline.remaining()
            try:
                return super()._new_conn()
            except NewConnectionError as error:  # a timeout, or refused: try the next one
                failure = error
            finally:
                self._dns_host = host
        raise failure


class _HTTPConnection(_Deadlined, HTTPConnection):
    pass


class _HTTPSConnection(_Deadlined, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _DeadlineAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


_sessions = {}


def _session(allow_private):
    """One session per process and policy, so connections to a receiver are reused
    (and one made while private receivers were allowed never serves a strict attempt)."""
    if allow_private not in _sessions:
        session = requests.Session()
        session.trust_env = False  # no proxy from the environment: it would hide the peer
        for scheme in ("http://", "https://"):
            session.mount(scheme, _DeadlineAdapter())
        _sessions[allow_private] = session
    return _sessions[allow_private]


def post(url, body, headers, timeout, allow_private):
    """POST `body` (bytes) within `timeout` seconds in all; returns the Reply, or
    raises Unreachable."""
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}
    with Deadline(timeout, public_only=not allow_private) as deadline:
        _running.deadline = deadline
        try:
            ssrf.check_scheme(url, allow_private)
            left = deadline.remaining()
            response = _session(allow_private).post(url, data=body, headers=headers, timeout=(left, left),
                                                    allow_redirects=False, stream=True)
        except FAILURES as error:
            raise Unreachable(failure_sentence(error, deadline)) from error
        prefix = _body_prefix(response)
        if deadline.passed:  # whatever arrived, the watchdog may have cut it short
            raise Unreachable(deadline.sentence)
    return Reply(response.status_code, response.headers.get("Retry-After"),
                 prefix.decode("utf-8", errors="replace"))


def _body_prefix(response):
    """The start of the answer's body. Read to its end, a small answer leaves the
    connection in the pool for the next attempt."""
    prefix = b""
    try:
        while len(prefix) < RESPONSE_PREFIX_BYTES:
            chunk = response.raw.read1(RESPONSE_PREFIX_BYTES - len(prefix), decode_content=True)
            if not chunk:
                break
            prefix += chunk
    except (Urllib3Error, OSError, ValueError, http.client.HTTPException):
        pass  # the status is what counts: a body broken off keeps what arrived
    finally:
        response.close()
    return prefix

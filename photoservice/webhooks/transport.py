"""One HTTP POST to a webhook receiver, with `requests`: no redirects, no proxies,
a bounded read of the answer, and (unless private addresses are allowed) a check
of the address each new connection really reached."""
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError as BodyError

from .ssrf import Refused, address_refusal

#: How much of a receiver's answer is kept.
RESPONSE_PREFIX_BYTES = 1024
USER_AGENT = "photoservice-webhooks/1.0"


class Unreachable(Exception):
    """No HTTP answer: refused address, timeout, connection or TLS error."""


@dataclass(frozen=True)
class Reply:
    status_code: int
    retry_after: str | None
    body_prefix: str


class _PublicPeer:
    """A connection that refuses a peer that is not public, before sending a byte."""

    def _new_conn(self):
        sock = super()._new_conn()
        problem = address_refusal(sock.getpeername()[0])
        if problem:
            sock.close()
            raise Refused(f"connected to {problem}")
        return sock


class _PublicHTTPConnection(_PublicPeer, HTTPConnection):
    pass


class _PublicHTTPSConnection(_PublicPeer, HTTPSConnection):
    pass


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _PublicOnlyAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PublicHTTPPool, "https": _PublicHTTPSPool}


_sessions = {}


def _session(allow_private):
    """One session per process and policy, so connections to a receiver are reused."""
    if allow_private not in _sessions:
        session = requests.Session()
        session.trust_env = False  # no proxy from the environment: it would hide the peer
        if not allow_private:
            for scheme in ("http://", "https://"):
                session.mount(scheme, _PublicOnlyAdapter())
        _sessions[allow_private] = session
    return _sessions[allow_private]


def post(url, body, headers, timeout, allow_private):
    """POST `body` (bytes); returns the Reply, or raises Unreachable."""
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}
    try:
        response = _session(allow_private).post(url, data=body, headers=headers, timeout=timeout,
                                                allow_redirects=False, stream=True)
    except Refused as error:
        raise Unreachable(f"Refused: {error}") from None
    except requests.Timeout:
        raise Unreachable(f"Timed out after {timeout:g} s") from None
    except requests.RequestException as error:
        raise Unreachable(f"{type(error).__name__}: {error}"[:500]) from None
    # A small answer read to its end leaves the connection in the pool for the next one.
    try:
        prefix = response.raw.read(RESPONSE_PREFIX_BYTES, decode_content=True)
    except (BodyError, OSError, ValueError):
        prefix = b""  # the status is what counts; a broken body stays unread
    finally:
        response.close()
    return Reply(response.status_code, response.headers.get("Retry-After"),
                 prefix.decode("utf-8", errors="replace"))

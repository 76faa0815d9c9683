"""Why an attempt got no answer, as a stable short sentence for the delivery's row.

An exception's own text may quote the receiver's URL with its query string, and
changes with library versions; the row gets one of the sentences below, the log
gets `root_cause(error)` (redacted).
"""
import http.client
import ssl

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError
from urllib3.exceptions import HTTPError as Urllib3Error

from . import ssrf

COULD_NOT_CONNECT = "Could not connect"
TLS_FAILED = "TLS handshake failed"
CLOSED = "The connection closed before an answer"
NOT_HTTP = "The answer was not valid HTTP"
NOT_SENT = "Could not send the request"

#: What an attempt's request can raise.
FAILURES = (requests.RequestException, Urllib3Error, http.client.HTTPException, OSError,
            ssrf.Refused)
#: The first kind found anywhere among the error and what it wraps names the failure
#: (after timeouts, which the deadline decides); a refusal says why in its summary.
KINDS = [
    (ssrf.Refused, None),
    (http.client.RemoteDisconnected, CLOSED),
    ((ssl.SSLError, ssl.CertificateError), TLS_FAILED),
    (NewConnectionError, COULD_NOT_CONNECT),
    ((http.client.HTTPException, requests.exceptions.InvalidHeader), NOT_HTTP),
    ((ConnectionError, requests.ConnectionError, requests.exceptions.ChunkedEncodingError), CLOSED),
]


def failure_sentence(error, deadline):
    """The stable sentence for an attempt under `deadline` that ended in `error`."""
    chain = list(_causes(error))
    if deadline.passed or any(_is_timeout(cause) for cause in chain):
        return deadline.sentence
    for kind, sentence in KINDS:
        found = next((cause for cause in chain if isinstance(cause, kind)), None)
        if found is not None:
            return sentence or f"Refused: {found.summary}"
    return NOT_SENT


def root_cause(error):
    """The innermost exception `error` wraps: what went wrong, without the request URL
    (and its query string) that the wrappers quote."""
    seen = set()
    while id(error) not in seen:
        seen.add(id(error))
        inner = next((cause for cause in (error.__cause__, getattr(error, "reason", None), *error.args,
                                          error.__context__) if isinstance(cause, BaseException)), None)
        if inner is None:
            break
        error = inner
    return error


def _is_timeout(error):
    # urllib3's NewConnectionError is a ConnectTimeoutError too, though refused at once.
    return isinstance(error, (TimeoutError, requests.Timeout, ReadTimeoutError)) or (
        isinstance(error, ConnectTimeoutError) and not isinstance(error, NewConnectionError))


def _causes(error):
    """`error` and every exception it wraps (causes, contexts, urllib3's reasons)."""
    seen, pending = set(), [error]
    while pending:
        cause = pending.pop(0)
        if not isinstance(cause, BaseException) or id(cause) in seen:
            continue
        seen.add(id(cause))
        yield cause
        pending += [cause.__cause__, cause.__context__, getattr(cause, "reason", None), *cause.args]

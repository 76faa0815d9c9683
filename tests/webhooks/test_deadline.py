"""One attempt ends within WEBHOOK_TIMEOUT in all, however the receiver paces its bytes
(tests/webhooks/raw_receiver.py: a byte every 0.3 s, which no per-read timeout ever
trips), and whatever happens it records a stable short sentence."""
import logging
import time

import pytest

from photoservice.webhooks import transport

TIMEOUT = 2.0
#: The watchdog's wake-up, the thread switch, recording the attempt.
MARGIN = 1.0


@pytest.fixture
def short_timeout(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT", TIMEOUT)


def post(url, body=b"{}"):
    """One attempt as a delivery makes it, to a local receiver."""
    return transport.post(url, body, {}, TIMEOUT, allow_private=True)


def timed_failure(url, body=b"{}"):
    """(the Unreachable sentence, seconds the attempt took)."""
    started = time.monotonic()
    with pytest.raises(transport.Unreachable) as failure:
        post(url, body)
    return str(failure.value), time.monotonic() - started


@pytest.mark.parametrize("style", ["status", "headers", "body"])
def test_a_dripping_receiver_is_cut_off_and_retried(short_timeout, owner, register, raw_receiver,
                                                    deliveries, attempt, style):
    receiver = raw_receiver(style)
    register(receiver.url(), ["photo.uploaded"])
    owner.upload_and_finalize()
    [row] = deliveries()
    started = time.monotonic()
    wait = attempt(row.id)
    took = time.monotonic() - started
    assert TIMEOUT <= took < TIMEOUT + MARGIN
    [failed] = deliveries()
    assert (failed.status, failed.attempts, failed.last_error, failed.last_status_code) == (
        "pending", 1, "Timed out after 2 s", None)
    assert 4.5 <= wait <= 5.5  # a failed attempt: the schedule's first retry, 5 s later
    assert len(receiver.requests) == 1


def test_a_receiver_that_never_reads_the_request(raw_receiver):
    sentence, took = timed_failure(raw_receiver("silent").url(), b"x" * (32 << 20))
    assert sentence == "Timed out after 2 s" and took < TIMEOUT + MARGIN


def test_a_tls_handshake_that_drips(raw_receiver):
    sentence, took = timed_failure(raw_receiver("tls").url("https"))
    assert sentence == "Timed out after 2 s" and took < TIMEOUT + MARGIN


def test_a_pooled_keep_alive_connection_is_held_to_the_deadline_too(raw_receiver):
    receiver = raw_receiver("second")
    first = post(receiver.url())
    assert (first.status_code, first.body_prefix) == (200, "ok")
    sentence, took = timed_failure(receiver.url())
    assert sentence == "Timed out after 2 s" and took < TIMEOUT + MARGIN
    assert receiver.connections == 1 and len(receiver.requests) == 2  # the same connection
    third = post(receiver.url())  # a cut connection is never handed out again
    assert third.status_code == 200 and receiver.connections == 2


@pytest.mark.parametrize("style, sentence", [
    ("garbage", "The answer was not valid HTTP"),
    ("hangup", "The connection closed before an answer"),
])
def test_failures_are_stable_sentences(raw_receiver, style, sentence):
    assert timed_failure(raw_receiver(style).url())[0] == sentence


def test_an_untrusted_certificate_fails_the_handshake(raw_receiver):
    assert timed_failure(raw_receiver("untrusted").url("https"))[0] == "TLS handshake failed"


def test_details_go_to_the_log_without_the_query_string(owner, register, deliveries, attempt, caplog):
    register("http://127.0.0.1:9/hooks?token=s3cr3t", ["photo.uploaded"])
    owner.upload_and_finalize()
    with caplog.at_level(logging.INFO, logger="photoservice.webhooks.delivery"):
        attempt(deliveries()[0].id)
    assert deliveries()[0].last_error == "Could not connect"
    [line] = [r.getMessage() for r in caplog.records if r.name == "photoservice.webhooks.delivery"]
    assert "Could not connect" in line and "ConnectionRefusedError" in line
    assert "s3cr3t" not in line

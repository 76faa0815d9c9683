"""Delivery attempts in this process against a real local receiver: signatures (checked
with the `standardwebhooks` package's own verifier), outcomes, retries, disabling."""
import json
import time
from datetime import timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from photoservice.database import utcnow
from photoservice.extensions import db
from photoservice.webhooks import delivery, outbox
from photoservice.webhooks.models import WebhookDelivery, WebhookEndpoint
from photoservice.webhooks.transport import RESPONSE_PREFIX_BYTES


def verify(secret, request):
    """The receiver's side: `standardwebhooks` checks the request, returns the event."""
    return Webhook(secret).verify(request["body"], request["headers"])


def set_endpoint(app, endpoint_id, **values):
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        for name, value in values.items():
            setattr(endpoint, name, value)
        db.session.commit()


def load_endpoint(app, endpoint_id):
    with app.app_context():
        endpoint = db.session.get(WebhookEndpoint, endpoint_id)
        db.session.expunge(endpoint)
        return endpoint


def make_due(app, delivery_id):
    """Fast-forward the delivery's clock: its next attempt is due now."""
    with app.app_context():
        row = db.session.get(WebhookDelivery, delivery_id)
        ahead = row.next_attempt_at - utcnow()
        row.next_attempt_at -= ahead
        if row.dispatched_at is not None:
            row.dispatched_at -= ahead
        db.session.commit()


def test_a_delivery_is_signed_per_standard_webhooks(owner, register, receiver, deliveries, attempt):
    endpoint = register(receiver.url, ["photo.uploaded"])
    photo = owner.upload_and_finalize(name="Ridge vent", tags=["hail"])
    [row] = deliveries()
    assert attempt(row.id) is None
    [request] = receiver.requests
    event = verify(endpoint["secret"], request)
    assert event["type"] == "photo.uploaded" and event["timestamp"]
    assert event["data"]["id"] == photo["id"] and event["data"]["status"] == "uploaded"
    assert event["data"]["tags"] == ["hail"] and event["data"]["updated_at"] == photo["updated_at"]
    for link in ("upload_url", "download_url", "variants"):
        assert link not in event["data"]
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert headers["webhook-id"] == row.message_id and headers["content-type"] == "application/json"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    assert headers["webhook-signature"].startswith("v1,") and " " not in headers["webhook-signature"]
    with pytest.raises(WebhookVerificationError):
        verify(register(receiver.url)["secret"], request)  # another endpoint's secret
    with pytest.raises(WebhookVerificationError):
        verify(endpoint["secret"], dict(request, body=request["body"].replace(b"Ridge", b"Eaves")))
    [done] = deliveries()
    assert (done.status, done.attempts, done.last_status_code, done.last_response) == (
        "succeeded", 1, 200, "ok")
    assert done.delivered_at is not None and done.next_attempt_at is None


def test_during_a_rotation_both_secrets_verify(app, owner, register, receiver, deliveries, attempt):
    endpoint = register(receiver.url, ["photo.uploaded"])
    rotated = owner.client.post(f"/light/webhooks/{endpoint['id']}/rotate-secret/",
                                headers=owner.headers).get_json()
    owner.upload_and_finalize()
    attempt(deliveries()[0].id)
    [request] = receiver.requests
    assert len(request["headers"]["webhook-signature"].split(" ")) == 2
    assert verify(rotated["secret"], request) == verify(endpoint["secret"], request)

    # A day later only the new secret signs.
    set_endpoint(app, endpoint["id"], previous_secret_expires_at=utcnow() - timedelta(seconds=1))
    owner.upload_and_finalize()
    attempt(deliveries()[1].id)
    late = receiver.requests[1]
    assert len(late["headers"]["webhook-signature"].split(" ")) == 1
    verify(rotated["secret"], late)
    with pytest.raises(WebhookVerificationError):
        verify(endpoint["secret"], late)


def test_failures_are_retried_on_the_schedule_honouring_retry_after(app, owner, register, receiver,
                                                                    deliveries, attempt, schedule):
    schedule(5, 300)
    receiver.script = [("status", 500, {}, b"boom"), ("status", 503, {"Retry-After": "900"}, b""),
                       ("status", 200, {}, b"")]
    register(receiver.url, ["photo.uploaded"])
    owner.upload_and_finalize()
    [row] = deliveries()

    started = utcnow()
    wait = attempt(row.id)
    assert 4.5 <= wait <= 5.5  # 5 s ±10 %: short enough to queue with a countdown
    [failed] = deliveries()
    assert (failed.status, failed.attempts, failed.last_status_code, failed.last_error,
            failed.last_response) == ("pending", 1, 500, "HTTP 500", "boom")
    assert timedelta(seconds=4.5) <= failed.next_attempt_at - started <= timedelta(seconds=6)
    assert failed.dispatched_at == failed.next_attempt_at  # queued now, not by the sweep
    assert attempt(row.id) is None  # not due yet: nothing sent
    assert len(receiver.requests) == 1

    make_due(app, row.id)
    assert attempt(row.id) is None  # the 300 s wait is the sweep's to send
    [failed] = deliveries()
    assert failed.next_attempt_at - utcnow() > timedelta(seconds=890)  # Retry-After beat 300 s
    assert failed.dispatched_at < failed.next_attempt_at

    make_due(app, row.id)
    with app.app_context():
        assert outbox.due_deliveries() == [row.id]
    attempt(row.id)
    [done] = deliveries()
    assert (done.status, done.attempts) == ("succeeded", 3)
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [row.message_id] * 3
    assert load_endpoint(app, done.endpoint_id).consecutive_failures == 0


def test_retry_after_waits_are_capped_at_a_day():
    assert delivery.retry_wait(5, "999999999") == 24 * 3600
    assert delivery.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert delivery.retry_after_seconds("soon") is None


def test_the_schedule_runs_out_into_a_failure(app, owner, register, receiver, deliveries, attempt,
                                              schedule):
    schedule(0, 0)
    receiver.default = ("status", 502, {}, b"")
    endpoint = register(receiver.url, ["photo.uploaded"])
    owner.upload_and_finalize()
    [row] = deliveries()
    for _ in range(3):
        make_due(app, row.id)
        attempt(row.id)
    [failed] = deliveries()
    assert (failed.status, failed.attempts, failed.next_attempt_at) == ("failed", 3, None)
    assert len(receiver.requests) == 3
    assert load_endpoint(app, endpoint["id"]).consecutive_failures == 3


def test_410_disables_the_endpoint(app, owner, register, receiver, deliveries, attempt):
    receiver.default = ("status", 410, {}, b"gone")
    endpoint = register(receiver.url, ["photo.uploaded"])
    owner.upload_and_finalize()
    owner.upload_and_finalize()
    first, second = deliveries()
    attempt(first.id)
    shown = owner.get(f"/light/webhooks/{endpoint['id']}/").get_json()
    assert shown["enabled"] is False and "410" in shown["disabled_reason"]
    first, second = deliveries()
    assert (first.status, first.last_status_code) == ("failed", 410)
    assert second.status == "failed" and "endpoint disabled" in second.last_error
    attempt(second.id)
    assert len(receiver.requests) == 1
    owner.upload_and_finalize()
    assert len(deliveries()) == 2  # a disabled endpoint gets no new deliveries


def test_consecutive_failures_disable_the_endpoint(app, owner, register, receiver, deliveries,
                                                   attempt, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_DISABLE_AFTER", 3)
    receiver.script = [("status", 500, {}, b""), ("status", 200, {}, b"")]
    receiver.default = ("status", 500, {}, b"")
    endpoint = register(receiver.url, ["photo.uploaded"])
    for _ in range(5):
        owner.upload_and_finalize()
    rows = deliveries()
    attempt(rows[0].id)
    attempt(rows[1].id)  # a success resets the count
    assert load_endpoint(app, endpoint["id"]).consecutive_failures == 0
    attempt(rows[2].id)
    attempt(rows[3].id)
    assert load_endpoint(app, endpoint["id"]).enabled
    attempt(rows[4].id)
    shown = owner.get(f"/light/webhooks/{endpoint['id']}/").get_json()
    assert shown["enabled"] is False and shown["consecutive_failures"] == 3
    assert shown["disabled_reason"] == "3 failed attempts in a row."
    assert {r.status for r in deliveries()[2:]} == {"failed"}


def test_redirects_are_not_followed(owner, register, receiver, deliveries, attempt):
    receiver.script = [("status", 302, {"Location": receiver.url + "/elsewhere"}, b"")]
    register(receiver.url, ["photo.uploaded"])
    owner.upload_and_finalize()
    [row] = deliveries()
    attempt(row.id)
    assert [r["path"] for r in receiver.requests] == ["/hooks"]
    [failed] = deliveries()
    assert failed.status == "pending" and failed.last_status_code == 302
    assert "redirects are not followed" in failed.last_error


def test_only_a_short_prefix_of_the_answer_is_kept(owner, register, receiver, deliveries, attempt):
    receiver.default = ("status", 200, {}, "é".encode() * 600_000)  # 1.2 MB
    register(receiver.url, ["photo.uploaded"])
    owner.upload_and_finalize()
    attempt(deliveries()[0].id)
    [done] = deliveries()
    assert done.status == "succeeded"
    assert 0 < len(done.last_response.encode()) <= RESPONSE_PREFIX_BYTES
    assert set(done.last_response) == {"é"}


def test_a_slow_receiver_times_out(app, owner, register, receiver, deliveries, attempt, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT", 0.5)
    receiver.script = [("sleep", 2)]
    register(receiver.url, ["photo.uploaded"])
    owner.upload_and_finalize()
    started = time.monotonic()
    attempt(deliveries()[0].id)
    assert time.monotonic() - started < 1.9
    [row] = deliveries()
    assert row.status == "pending" and row.last_error == "Timed out after 0.5 s"


def test_a_closed_port_is_a_failed_attempt(owner, register, deliveries, attempt):
    register("http://127.0.0.1:9/hooks", ["photo.uploaded"])
    owner.upload_and_finalize()
    attempt(deliveries()[0].id)
    [row] = deliveries()
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "Could not connect")


def test_redelivery_sends_the_same_message_again(app, owner, register, receiver, deliveries, attempt):
    endpoint = register(receiver.url, ["photo.uploaded"])
    owner.upload_and_finalize()
    [row] = deliveries()
    attempt(row.id)
    response = owner.client.post(f"/light/webhooks/{endpoint['id']}/deliveries/{row.id}/redeliver/",
                                 headers=owner.headers)
    assert response.status_code == 202
    assert response.get_json()["status"] == "pending" and response.get_json()["attempts"] == 0
    attempt(row.id)
    first, second = receiver.requests
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"] == row.message_id
    assert json.loads(first["body"]) == json.loads(second["body"])
    assert deliveries()[0].status == "succeeded"


def test_a_worker_lost_mid_attempt_is_sent_again_after_its_lease(app, owner, register, receiver,
                                                                 deliveries, attempt):
    register(receiver.url, ["photo.uploaded"])
    owner.upload_and_finalize()
    [row] = deliveries()
    with app.app_context():
        assert delivery._claim(row.id) is not None  # ... and the process dies here
        assert outbox.due_deliveries() == []
        assert attempt(row.id) is None  # a duplicate message finds it taken
        db.session.get(WebhookDelivery, row.id).next_attempt_at = utcnow()  # the lease ran out
        db.session.commit()
        assert outbox.due_deliveries() == [row.id]
    attempt(row.id)
    assert deliveries()[0].status == "succeeded" and len(receiver.requests) == 1


def test_a_lost_message_is_sent_again_by_the_sweep(app, owner, register, monkeypatch):
    monkeypatch.setitem(app.config, "PROCESSING_REDISPATCH_AFTER", 600)
    register("https://crm.example.com/hooks", ["photo.uploaded"])
    owner.upload_and_finalize()
    with app.app_context():
        assert outbox.due_deliveries() == []  # with the broker
        row = db.session.execute(db.select(WebhookDelivery)).scalar_one()
        row.dispatched_at = utcnow() - timedelta(seconds=601)
        db.session.commit()
        assert outbox.due_deliveries() == [row.id]

"""Webhook fixtures: a local receiver, endpoints registered through the API, and the
real workers of tests/processing."""
import time

import pytest
from sqlalchemy import select

from photoservice.extensions import db
from photoservice.webhooks import delivery
from photoservice.webhooks.models import WebhookDelivery
from tests.processing.conftest import start_worker, wait_processed  # noqa: F401  (fixtures)
from tests.servers import WebhookReceiver
from tests.webhooks.raw_receiver import RawReceiver

ALL_EVENTS = ["photo.uploaded", "photo.processed", "photo.updated", "photo.deleted"]


@pytest.fixture
def receiver():
    server = WebhookReceiver()
    yield server
    server.close()


@pytest.fixture
def raw_receiver():
    """`raw_receiver(style, pace=0.3)` → a RawReceiver: one that drips, never reads,
    answers garbage... (tests/webhooks/raw_receiver.py)."""
    made = []

    def make(style, pace=0.3):
        made.append(RawReceiver(style, pace))
        return made[-1]

    yield make
    for server in made:
        server.close()


@pytest.fixture
def owner(as_user):
    return as_user("owner")


@pytest.fixture
def register(owner):
    """`register(url, events=ALL_EVENTS, caller=owner)` → the created endpoint (with its secret)."""
    def make(url, events=None, caller=None, status=201, **body):
        caller = caller or owner
        response = caller.client.post("/light/webhooks/", headers=caller.headers,
                                      json={"url": url, "events": events or ALL_EVENTS, **body})
        assert response.status_code == status, response.get_json()
        return response.get_json()
    return make


@pytest.fixture
def deliveries(app):
    """`deliveries()` → every delivery row, oldest first (detached)."""
    def load(**where):
        with app.app_context():
            rows = db.session.execute(select(WebhookDelivery).filter_by(**where)
                                      .order_by(WebhookDelivery.id)).scalars().all()
            db.session.expunge_all()
            return rows
    return load


@pytest.fixture
def attempt(app):
    """`attempt(delivery_id)` → one attempt in this process, as the task makes it."""
    def run(delivery_id):
        with app.app_context():
            return delivery.attempt(delivery_id)
    return run


@pytest.fixture
def schedule(app, monkeypatch):
    """`schedule(*waits)` sets a short WEBHOOK_RETRY_SCHEDULE for the test."""
    def set_waits(*waits):
        monkeypatch.setitem(app.config, "WEBHOOK_RETRY_SCHEDULE", list(waits))
    return set_waits


@pytest.fixture
def wait_deliveries(deliveries):
    """`wait_deliveries(count, status)` → the rows once `count` of them have `status`."""
    def wait(count, status="succeeded", timeout=60):
        deadline = time.monotonic() + timeout
        while True:
            rows = deliveries()
            if sum(r.status == status for r in rows) >= count:
                return rows
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} deliveries not {status} in {timeout}s: "
                                     f"{[(r.id, r.event_type, r.status, r.last_error) for r in rows]}")
            time.sleep(0.1)
    return wait

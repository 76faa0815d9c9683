"""Delivery rows hold photos' payloads (GPS, addresses): the sweep deletes them after
WEBHOOK_DELIVERY_RETENTION seconds, a bounded batch at a time."""
import secrets
from datetime import timedelta

import pytest
from sqlalchemy import event, text

from photoservice.database import utcnow
from photoservice.extensions import db
from photoservice.webhooks import outbox
from photoservice.webhooks.models import WebhookDelivery
from workers import tasks

DAY = 24 * 3600


@pytest.fixture
def delivery_rows(app, register, receiver, company):
    """`delivery_rows(count, age_days, status)` → ids of rows created that long ago."""
    endpoint = register(receiver.url)

    def make(count, age_days, status="succeeded"):
        with app.app_context():
            rows = [WebhookDelivery(company_id=company["id"], endpoint_id=endpoint["id"],
                                    event_type="photo.processed", message_id=f"msg_{secrets.token_hex(8)}",
                                    payload={"data": {"latitude": 40.7128}}, status=status,
                                    created_at=utcnow() - timedelta(days=age_days))
                    for _ in range(count)]
            db.session.add_all(rows)
            db.session.commit()
            return [row.id for row in rows]
    return make


def remaining(app):
    with app.app_context():
        return set(db.session.execute(db.select(WebhookDelivery.id)).scalars())


def test_finished_deliveries_past_the_retention_are_deleted(app, delivery_rows, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_DELIVERY_RETENTION", 30 * DAY)
    old = delivery_rows(3, age_days=31) + delivery_rows(2, age_days=40, status="failed")
    recent = delivery_rows(2, age_days=29)
    still_tried = delivery_rows(1, age_days=31, status="pending")  # kept until it ends
    with app.app_context():
        assert outbox.delete_old_deliveries() == len(old)
    assert remaining(app) == set(recent + still_tried)


def test_each_sweep_deletes_a_bounded_number_oldest_first(app, delivery_rows, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_DELIVERY_RETENTION", DAY)
    delivery_rows(4, age_days=9)
    older = delivery_rows(4, age_days=5)
    with app.app_context():
        assert outbox.delete_old_deliveries(batch=3, statements=2) == 6  # 2 statements of 3
        assert remaining(app) == set(older[2:])  # the oldest went first
        assert outbox.delete_old_deliveries(batch=3, statements=2) == 2  # the next sweep
    assert remaining(app) == set()


def test_the_sweep_deletes_them(app, delivery_rows, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_DELIVERY_RETENTION", 7 * DAY)
    delivery_rows(2, age_days=8)
    kept = delivery_rows(1, age_days=1)
    with app.app_context():
        assert tasks.sweep_processing.apply().successful()
    assert remaining(app) == set(kept)


def test_the_delete_reads_the_created_at_index(app):
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("DELETE FROM webhook_deliveries"):
            statements.append((statement, parameters))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            outbox.delete_old_deliveries()
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        [(statement, parameters)] = statements
        db.session.execute(text("SET LOCAL enable_seqscan = off"))  # as on a table too large to scan
        plan = db.session.connection().exec_driver_sql(f"EXPLAIN {statement}", parameters).scalars().all()
        db.session.rollback()
    assert any("ix_webhook_deliveries_created_at" in line for line in plan), plan

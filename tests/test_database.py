"""photoservice.database: pooled connections checked when idle, and stored_row."""
import time
from datetime import datetime, timezone

import psycopg
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, text

from photoservice import database
from photoservice.database import stored_row
from photoservice.extensions import db
from photoservice.photos.models import Photo, PhotoStatus


@pytest.fixture
def pings(app, monkeypatch):
    """The pings the app's engine sends, counted; idle means over 0.2 s here."""
    monkeypatch.setattr(database, "PING_AFTER_IDLE", 0.2)
    with app.app_context():
        dialect = db.engine.dialect
    sent = []
    real_ping = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda connection: sent.append(1) or real_ping(connection))
    yield sent
    with app.app_context():
        db.engine.dispose()  # no connection the test terminated outlives it


def terminate_connections(admin_url, database_url):
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = %s AND pid <> pg_backend_pid()", [database_url.rsplit("/", 1)[1]])


def test_a_busy_connection_is_not_pinged(as_user, pings):
    crew = as_user("crew")
    assert crew.get("/light/photos/").status_code == 200  # may take one idle since an earlier test
    pings.clear()
    for _ in range(5):
        assert crew.get("/light/photos/").status_code == 200
    assert pings == []


def test_an_idle_connection_is_pinged_and_a_dropped_one_replaced(
        as_user, pings, database_admin_url, database_url):
    crew = as_user("crew")
    assert crew.get("/light/photos/").status_code == 200  # may take one idle since an earlier test
    pings.clear()
    time.sleep(0.3)
    assert crew.get("/light/photos/").status_code == 200
    assert len(pings) == 1
    terminate_connections(database_admin_url, database_url)
    time.sleep(0.3)
    assert crew.get("/light/photos/").status_code == 200  # not a 503: replaced before use
    assert len(pings) == 2


def test_timestamps_come_back_in_utc_from_a_utc_session(app):
    with app.app_context():
        connection = db.session.connection()
        assert connection.exec_driver_sql("SHOW TimeZone").scalar() == "UTC"
        stamp = connection.exec_driver_sql("SELECT now()").scalar()
        db.session.rollback()
    assert stamp.tzinfo is timezone.utc


def test_a_timestamp_in_another_zone_is_converted():
    from zoneinfo import ZoneInfo
    local = datetime(2026, 11, 28, 9, 30, tzinfo=ZoneInfo("America/Denver"))
    converted = database.UTCDateTime().process_result_value(local, None)
    assert converted == local and converted.tzinfo is timezone.utc and converted.hour == 16


def test_every_column_but_the_id_with_its_default():
    row = stored_row(Photo.__table__, {"name": "Ridge", "company_id": 1, "created_by": 2, "key": "k.jpg"})
    assert set(row) == {column.key for column in Photo.__table__.columns} - {"id"}
    assert row["name"] == "Ridge" and row["description"] is None
    assert row["status"] == PhotoStatus.PENDING_UPLOAD.value and row["is_video"] is False
    assert row["tags"] == [] and row["related_to"] == [] and row["tags"] is not row["related_to"]
    assert isinstance(row["created_at"], datetime) and row["created_at"].tzinfo is not None


def test_given_values_win_over_defaults():
    row = stored_row(Photo.__table__, {"status": "uploaded", "tags": ["hail"], "is_video": True})
    assert (row["status"], row["tags"], row["is_video"]) == ("uploaded", ["hail"], True)


def test_a_column_with_only_a_server_default_is_refused():
    table = Table("things", MetaData(), Column("id", Integer, primary_key=True),
                  Column("state", String, server_default=text("'new'")))
    with pytest.raises(ValueError, match="things.state has only a server-side default"):
        stored_row(table, {})

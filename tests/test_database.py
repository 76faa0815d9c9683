"""database.stored_row: the row an INSERT stores, built without reading it back."""
from datetime import datetime

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, text

from photoservice.database import stored_row
from photoservice.photos.models import Photo, PhotoStatus


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

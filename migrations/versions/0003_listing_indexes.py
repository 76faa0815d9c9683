"""Indexes that serve the photo list: its filters and its order

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28

The list shows a company's uploaded photos by captured_at descending (undated
last), then newest first; the job filter is the common one. Partial indexes on
uploaded photos in exactly that order let the database read the first page
straight from the index, however many photos the company has. On PostgreSQL a
GIN index on uploaded photos serves the tag filter (JSONB containment).
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

UPLOADED = sa.text("status = 'uploaded'")


def _display_order(dialect):
    # SQLite sorts NULLs first ascending, so plain DESC already puts them last
    # (and it refuses NULLS LAST in an index).
    captured = "captured_at DESC NULLS LAST" if dialect == "postgresql" else "captured_at DESC"
    return [sa.text(captured), sa.text("created_at DESC"), sa.text("id DESC")]


def upgrade():
    dialect = op.get_bind().dialect.name
    where = {f"{dialect}_where": UPLOADED}
    op.create_index("ix_photos_listing", "photos", ["company_id", *_display_order(dialect)], **where)
    op.create_index("ix_photos_job_listing", "photos",
                    ["company_id", "job_id", *_display_order(dialect)], **where)
    op.create_index("ix_photos_creator_listing", "photos",
                    ["created_by", *_display_order(dialect)], **where)
    if dialect == "postgresql":
        # Partial too: a GIN insert costs a create ~1.5 ms, and pending photos are
        # never listed; the cost moves to finalize, off the burst path.
        op.create_index("ix_photos_tags", "photos", [sa.text("tags jsonb_path_ops")],
                        postgresql_using="gin", postgresql_where=UPLOADED)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_photos_tags", table_name="photos")
    for name in ("ix_photos_creator_listing", "ix_photos_job_listing", "ix_photos_listing"):
        op.drop_index(name, table_name="photos")

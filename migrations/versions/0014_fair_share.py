"""Fair share of media work: counting a company's media work with the broker

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04

A finalize, and each media task that ends, counts the company's queued media work
(photos/outbox.py, DISPATCH_PER_COMPANY). Queued media work is a handful of rows
among a company's million photos: a partial index on it keeps the count and the
claim of held-back work to a few index pages.
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    dialect = op.get_bind().dialect.name
    op.create_index("ix_photos_media_queued", "photos", ["company_id", "media_dispatched_at"],
                    **{f"{dialect}_where": sa.text("media_status = 'queued'")})


def downgrade():
    op.drop_index("ix_photos_media_queued", table_name="photos")

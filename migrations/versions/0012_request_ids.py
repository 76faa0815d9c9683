"""Request ids stored with the work they caused, so the sweep re-sends them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04

The X-Request-ID of the request that queued a photo's metadata work (the create)
and its media work (the finalize), a store deletion (the DELETE), and the request
whose change a webhook delivery announces. NULL for rows written before: the sweep
sends their work with a `sweep-…` id of its own.
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

COLUMNS = {"photos": ("request_id", "media_request_id"), "store_deletions": ("request_id",),
           "webhook_deliveries": ("request_id",)}


def upgrade():
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.add_column(sa.Column(column, sa.String(length=200), nullable=True))


def downgrade():
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in reversed(columns):
                batch_op.drop_column(column)

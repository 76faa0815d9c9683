"""Delivery retention: the sweep deletes old delivery rows by their creation time

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_webhook_deliveries_created_at', 'webhook_deliveries', ['created_at'])


def downgrade():
    op.drop_index('ix_webhook_deliveries_created_at', table_name='webhook_deliveries')

"""Webhook signing secrets encrypted at rest (WEBHOOK_SECRET_KEYS)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    # Fernet tokens are longer than the secrets they hold.
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.alter_column('secret', type_=sa.Text(), existing_nullable=False)
        batch_op.alter_column('previous_secret', type_=sa.Text(), existing_nullable=True)


def downgrade():
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.alter_column('secret', type_=sa.String(length=100), existing_nullable=False)
        batch_op.alter_column('previous_secret', type_=sa.String(length=100), existing_nullable=True)

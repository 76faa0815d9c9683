"""Webhook signing secrets encrypted at rest (WEBHOOK_SECRET_KEYS)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

The columns widen to hold Fernet tokens, and secrets stored in clear (`whsec_…`)
are encrypted with the app's first key; downgrade decrypts them again. Both read
WEBHOOK_SECRET_KEYS as the app does (the app refuses to start without it).
"""
from alembic import op
import sqlalchemy as sa
from flask import current_app

from photoservice.webhooks.secret_keys import keyring

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

CLEAR_PREFIX = 'whsec_'
endpoints = sa.table('webhook_endpoints', sa.column('id', sa.Integer), sa.column('secret', sa.Text),
                     sa.column('previous_secret', sa.Text))


def upgrade():
    # Fernet tokens are longer than the secrets they hold.
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.alter_column('secret', type_=sa.Text(), existing_nullable=False)
        batch_op.alter_column('previous_secret', type_=sa.Text(), existing_nullable=True)
    keys = keyring(current_app.config['WEBHOOK_SECRET_KEYS'])
    _rewrite(lambda value: keys.encrypt(value.encode()).decode() if value.startswith(CLEAR_PREFIX)
             else value)


def downgrade():
    keys = keyring(current_app.config['WEBHOOK_SECRET_KEYS'])
    _rewrite(lambda value: value if value.startswith(CLEAR_PREFIX)
             else keys.decrypt(value.encode()).decode())
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.alter_column('secret', type_=sa.String(length=100), existing_nullable=False)
        batch_op.alter_column('previous_secret', type_=sa.String(length=100), existing_nullable=True)


def _rewrite(convert):
    """Apply `convert` to every stored secret (an endpoint has one or two)."""
    connection = op.get_bind()
    rows = connection.execute(sa.select(endpoints.c.id, endpoints.c.secret,
                                        endpoints.c.previous_secret)).all()
    for endpoint_id, secret, previous in rows:
        connection.execute(endpoints.update().where(endpoints.c.id == endpoint_id).values(
            secret=convert(secret), previous_secret=convert(previous) if previous else previous))

"""Hostile input: media warnings, immutable originals, client_id per creator

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

- `media_warnings`: what the media work skipped in a file (e.g. metadata too large)
  while still processing it.
- `original_key`: where the served original lives once finalize has checked it,
  a key no upload policy names. Photos uploaded before this revision are served
  from their upload key, as before (their upload policies expired long ago).
- `client_id` makes a create idempotent per creator, not per company: another
  user's `client_id` is that user's own photo.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media_warnings', postgresql.JSONB(astext_type=sa.Text()),
                                      nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('original_key', sa.String(length=300), nullable=True))
        batch_op.drop_constraint('uq_photos_company_id_client_id', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_photos_created_by_client_id'),
                                          ['created_by', 'client_id'])
    op.execute("UPDATE photos SET original_key = key WHERE status = 'uploaded'")


def downgrade():
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_photos_created_by_client_id'), type_='unique')
        batch_op.create_unique_constraint('uq_photos_company_id_client_id', ['company_id', 'client_id'])
        batch_op.drop_column('original_key')
        batch_op.drop_column('media_warnings')

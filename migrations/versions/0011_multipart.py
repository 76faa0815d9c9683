"""Resumable uploads: the open multipart upload of a pending photo

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04

A pending photo remembers the multipart upload its creator opened (the store's
upload id, the declared size and the part size the server chose); a store
deletion may name an upload to abort beside its key.
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('multipart_upload_id', sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column('multipart_size', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('multipart_part_size', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('store_deletions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('upload_id', sa.String(length=1024), nullable=True))


def downgrade():
    with op.batch_alter_table('store_deletions', schema=None) as batch_op:
        batch_op.drop_column('upload_id')
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_column('multipart_part_size')
        batch_op.drop_column('multipart_size')
        batch_op.drop_column('multipart_upload_id')

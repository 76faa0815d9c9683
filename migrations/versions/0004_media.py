"""What the worker reads from the file itself: hash, size as displayed, derivatives

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

Photos already uploaded before this revision are queued for media work; the
periodic sweep sends them (their outbox marker is NULL).
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('photos') as batch_op:
        batch_op.add_column(sa.Column('sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('width', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('height', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('captured_at_source', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('variants', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
        batch_op.add_column(sa.Column('media_status', sa.String(length=20), nullable=False,
                                      server_default='waiting_upload'))
        batch_op.add_column(sa.Column('media_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('media_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('media_dispatched_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('media_processed_at', sa.DateTime(timezone=True), nullable=True))
    # The sweep looks for unfinished media work only: a small partial index.
    op.create_index('ix_photos_media_unfinished', 'photos', ['id'],
                    postgresql_where=sa.text("media_status = 'queued'"))
    op.execute("UPDATE photos SET media_status = 'queued' WHERE status = 'uploaded'")


def downgrade():
    op.drop_index('ix_photos_media_unfinished', table_name='photos')
    with op.batch_alter_table('photos') as batch_op:
        for column in ('media_processed_at', 'media_dispatched_at', 'media_attempts', 'media_error',
                       'media_status', 'variants', 'captured_at_source', 'height', 'width', 'sha256'):
            batch_op.drop_column(column)

"""Photo deletion: the outbox of objects to remove from the store, and the purge's index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

Deleting a photo writes one `store_deletions` row per object it may have in the
store, in the same transaction; a worker removes the objects, then the rows.
The periodic purge of abandoned uploads reads old pending photos through a small
partial index.
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('store_deletions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_store_deletions'))
    )
    op.create_index(op.f('ix_store_deletions_due_at'), 'store_deletions', ['due_at'])
    op.create_index('ix_photos_pending_created', 'photos', ['created_at'],
                    postgresql_where=sa.text("status = 'pending_upload'"))


def downgrade():
    op.drop_index('ix_photos_pending_created', table_name='photos')
    op.drop_index(op.f('ix_store_deletions_due_at'), table_name='store_deletions')
    op.drop_table('store_deletions')

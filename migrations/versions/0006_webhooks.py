"""Webhooks: endpoints, deliveries, and when photo.processed was announced

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-28

Photos whose work was already done before this revision count as announced, so
the sweep does not send `photo.processed` for the whole history.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

DONE = ("processing_status IN ('processed', 'processing_failed') "
        "AND media_status IN ('processed', 'failed')")


def upgrade():
    op.create_table(
        'webhook_endpoints',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('url', sa.String(length=2048), nullable=False),
        sa.Column('events', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('secret', sa.String(length=100), nullable=False),
        sa.Column('previous_secret', sa.String(length=100), nullable=True),
        sa.Column('previous_secret_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('disabled_reason', sa.Text(), nullable=True),
        sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('consecutive_failures', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id'],
                                name='fk_webhook_endpoints_company_id_companies', ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_webhook_endpoints'),
    )
    op.create_index('ix_webhook_endpoints_company_id', 'webhook_endpoints', ['company_id'])
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('company_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('endpoint_id', sa.Integer(), nullable=False),
        sa.Column('event_type', sa.String(length=40), nullable=False),
        sa.Column('message_id', sa.String(length=40), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('last_response', sa.Text(), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['company_id'], ['companies.id'],
                                name='fk_webhook_deliveries_company_id_companies', ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['endpoint_id'], ['webhook_endpoints.id'],
                                name='fk_webhook_deliveries_endpoint_id_webhook_endpoints',
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name='pk_webhook_deliveries'),
        sa.UniqueConstraint('endpoint_id', 'message_id',
                            name='uq_webhook_deliveries_endpoint_id_message_id'),
    )
    op.create_index('ix_webhook_deliveries_company_id', 'webhook_deliveries', ['company_id'])
    op.create_index('ix_webhook_deliveries_log', 'webhook_deliveries',
                    ['endpoint_id', sa.text('created_at DESC'), sa.text('id DESC')])
    op.create_index('ix_webhook_deliveries_pending', 'webhook_deliveries', ['next_attempt_at'],
                    postgresql_where=sa.text("status = 'pending'"))

    op.add_column('photos', sa.Column('processed_event_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(f"UPDATE photos SET processed_event_at = now() WHERE {DONE}")
    # The sweep looks for finished work not yet announced: a small partial index.
    op.create_index('ix_photos_processed_event_due', 'photos', ['id'],
                    postgresql_where=sa.text("processed_event_at IS NULL "
                                             "AND media_status IN ('processed', 'failed')"))


def downgrade():
    op.drop_index('ix_photos_processed_event_due', table_name='photos')
    op.drop_column('photos', 'processed_event_at')
    op.drop_table('webhook_deliveries')
    op.drop_table('webhook_endpoints')

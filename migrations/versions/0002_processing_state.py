"""Photo processing state and the shared geocoding cache

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 01:31:26.112235

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('geocoded_places',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('geocoder', sa.String(length=50), nullable=False),
    sa.Column('latitude', sa.Double(), nullable=False),
    sa.Column('longitude', sa.Double(), nullable=False),
    sa.Column('location', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_geocoded_places'))
    )
    with op.batch_alter_table('geocoded_places', schema=None) as batch_op:
        batch_op.create_index('ix_geocoded_places_lookup', ['geocoder', 'latitude', 'longitude'], unique=False)

    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('processing_status', sa.String(length=20), nullable=False, server_default='queued'))
        batch_op.add_column(sa.Column('processing_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('location_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('processing_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_photos_processing_status'), ['processing_status'], unique=False)



def downgrade():
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photos_processing_status'))
        batch_op.drop_column('processed_at')
        batch_op.drop_column('dispatched_at')
        batch_op.drop_column('processing_attempts')
        batch_op.drop_column('location_error')
        batch_op.drop_column('processing_error')
        batch_op.drop_column('processing_status')

    with op.batch_alter_table('geocoded_places', schema=None) as batch_op:
        batch_op.drop_index('ix_geocoded_places_lookup')

    op.drop_table('geocoded_places')

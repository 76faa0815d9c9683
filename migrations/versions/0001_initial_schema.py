"""Companies, users, API keys, jobs, line items and photos

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 01:17:06.640682

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('companies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_companies'))
    )
    op.create_table('jobs',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_jobs_company_id_companies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jobs_company_id'), ['company_id'], unique=False)

    op.create_table('users',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('owner', 'employee', 'crew', name='user_role'), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_users_company_id_companies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_company_id'), ['company_id'], unique=False)

    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_keys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('digest', name=op.f('uq_api_keys_digest'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_user_id'), ['user_id'], unique=False)

    op.create_table('change_order_line_items',
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_change_order_line_items_company_id_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_change_order_line_items_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_order_line_items'))
    )
    with op.batch_alter_table('change_order_line_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_change_order_line_items_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_change_order_line_items_job_id'), ['job_id'], unique=False)

    op.create_table('estimate_line_items',
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_estimate_line_items_company_id_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_estimate_line_items_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_estimate_line_items'))
    )
    with op.batch_alter_table('estimate_line_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_estimate_line_items_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_estimate_line_items_job_id'), ['job_id'], unique=False)

    op.create_table('job_inspections',
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_job_inspections_company_id_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_job_inspections_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_inspections'))
    )
    with op.batch_alter_table('job_inspections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_inspections_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_inspections_job_id'), ['job_id'], unique=False)

    op.create_table('supplemental_line_items',
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_supplemental_line_items_company_id_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_supplemental_line_items_job_id_jobs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplemental_line_items'))
    )
    with op.batch_alter_table('supplemental_line_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supplemental_line_items_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supplemental_line_items_job_id'), ['job_id'], unique=False)

    op.create_table('job_inspection_line_items',
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_job_inspection_line_items_company_id_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['inspection_id'], ['job_inspections.id'], name=op.f('fk_job_inspection_line_items_inspection_id_job_inspections'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_inspection_line_items'))
    )
    with op.batch_alter_table('job_inspection_line_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_inspection_line_items_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_inspection_line_items_inspection_id'), ['inspection_id'], unique=False)

    op.create_table('photos',
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=150), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('job_inspection_line_item_id', sa.Integer(), nullable=True),
    sa.Column('estimate_line_item_id', sa.Integer(), nullable=True),
    sa.Column('supplemental_line_item_id', sa.Integer(), nullable=True),
    sa.Column('change_order_line_item_id', sa.Integer(), nullable=True),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('related_to', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('exif', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('is_video', sa.Boolean(), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=255), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('etag', sa.String(length=255), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('captured_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('latitude', sa.Double(), nullable=True),
    sa.Column('longitude', sa.Double(), nullable=True),
    sa.Column('location', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['change_order_line_item_id'], ['change_order_line_items.id'], name=op.f('fk_photos_change_order_line_item_id_change_order_line_items'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_photos_company_id_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_photos_created_by_users')),
    sa.ForeignKeyConstraint(['estimate_line_item_id'], ['estimate_line_items.id'], name=op.f('fk_photos_estimate_line_item_id_estimate_line_items'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_photos_job_id_jobs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['job_inspection_line_item_id'], ['job_inspection_line_items.id'], name=op.f('fk_photos_job_inspection_line_item_id_job_inspection_line_items'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['supplemental_line_item_id'], ['supplemental_line_items.id'], name=op.f('fk_photos_supplemental_line_item_id_supplemental_line_items'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos')),
    sa.UniqueConstraint('company_id', 'client_id', name=op.f('uq_photos_company_id_client_id')),
    sa.UniqueConstraint('key', name=op.f('uq_photos_key'))
    )
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photos_change_order_line_item_id'), ['change_order_line_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_created_by'), ['created_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_estimate_line_item_id'), ['estimate_line_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_job_inspection_line_item_id'), ['job_inspection_line_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_supplemental_line_item_id'), ['supplemental_line_item_id'], unique=False)



def downgrade():
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photos_supplemental_line_item_id'))
        batch_op.drop_index(batch_op.f('ix_photos_job_inspection_line_item_id'))
        batch_op.drop_index(batch_op.f('ix_photos_job_id'))
        batch_op.drop_index(batch_op.f('ix_photos_estimate_line_item_id'))
        batch_op.drop_index(batch_op.f('ix_photos_created_by'))
        batch_op.drop_index(batch_op.f('ix_photos_company_id'))
        batch_op.drop_index(batch_op.f('ix_photos_change_order_line_item_id'))

    op.drop_table('photos')
    with op.batch_alter_table('job_inspection_line_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_inspection_line_items_inspection_id'))
        batch_op.drop_index(batch_op.f('ix_job_inspection_line_items_company_id'))

    op.drop_table('job_inspection_line_items')
    with op.batch_alter_table('supplemental_line_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supplemental_line_items_job_id'))
        batch_op.drop_index(batch_op.f('ix_supplemental_line_items_company_id'))

    op.drop_table('supplemental_line_items')
    with op.batch_alter_table('job_inspections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_inspections_job_id'))
        batch_op.drop_index(batch_op.f('ix_job_inspections_company_id'))

    op.drop_table('job_inspections')
    with op.batch_alter_table('estimate_line_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_estimate_line_items_job_id'))
        batch_op.drop_index(batch_op.f('ix_estimate_line_items_company_id'))

    op.drop_table('estimate_line_items')
    with op.batch_alter_table('change_order_line_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_change_order_line_items_job_id'))
        batch_op.drop_index(batch_op.f('ix_change_order_line_items_company_id'))

    op.drop_table('change_order_line_items')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_user_id'))

    op.drop_table('api_keys')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_company_id'))

    op.drop_table('users')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jobs_company_id'))

    op.drop_table('jobs')
    op.drop_table('companies')

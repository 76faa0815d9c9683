"""The list at a million photos: counting uploaded photos, and the videos' order

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

`make bench-scale` (a million photos in one company) showed two shapes of the list
reading far more than they return. The exact count of a company's uploaded photos
read the widest listing index: a bare (company_id) index on uploaded photos is 7 MB
against 47 MB (deduplicated keys), and counts a million in ~60 ms against ~90.
`?is_video=true` counted by reading every photo (280 ms) and found its page by
skipping the photos on the listing index: videos get a listing index of their own,
which serves both (3.5 ms).
"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    dialect = op.get_bind().dialect.name
    # SQLite sorts NULLs first ascending, so plain DESC already puts them last.
    captured = "captured_at DESC NULLS LAST" if dialect == "postgresql" else "captured_at DESC"
    op.create_index("ix_photos_uploaded", "photos", ["company_id"],
                    **{f"{dialect}_where": sa.text("status = 'uploaded'")})
    op.create_index("ix_photos_video_listing", "photos",
                    ["company_id", sa.text(captured), sa.text("created_at DESC"), sa.text("id DESC")],
                    **{f"{dialect}_where": sa.text("status = 'uploaded' AND is_video")})


def downgrade():
    op.drop_index("ix_photos_video_listing", table_name="photos")
    op.drop_index("ix_photos_uploaded", table_name="photos")

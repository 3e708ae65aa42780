"""page indexes: published offers of one kind, newest first (an offer page's related offers)

Revision ID: 0028_page_indexes
Revises: 0025_challenge_eval
"""
from alembic import op

revision = "0028_page_indexes"
down_revision = '0025_challenge_eval'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index("ix_offers_status_kind_published_at", ["status", "kind", "published_at"], unique=False)


def downgrade():
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index("ix_offers_status_kind_published_at")

"""need embeddings: stored sentence vectors of needs for the matching engine's semantic channel

Revision ID: 0033_need_embeddings
Revises: 0028_page_indexes
"""
from alembic import op
import sqlalchemy as sa

revision = "0033_need_embeddings"
down_revision = "0028_page_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "need_embeddings",
        sa.Column("need_id", sa.Integer(), nullable=False),
        sa.Column("encoder", sa.String(length=200), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["need_id"], ["needs.id"], name=op.f("fk_need_embeddings_need_id_needs"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("need_id", name=op.f("pk_need_embeddings")),
    )


def downgrade():
    op.drop_table("need_embeddings")

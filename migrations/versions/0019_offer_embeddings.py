"""offer embeddings: stored sentence vectors of offers for the matching engine's semantic channel

Revision ID: 0019_offer_embeddings
Revises: 0015_submission_keys
"""
from alembic import op
import sqlalchemy as sa

revision = "0019_offer_embeddings"
down_revision = "0015_submission_keys"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "offer_embeddings",
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("encoder", sa.String(length=200), nullable=False),
        sa.Column("text_hash", sa.String(length=64), nullable=False),
        sa.Column("dim", sa.Integer(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"], name=op.f("fk_offer_embeddings_offer_id_offers"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("offer_id", name=op.f("pk_offer_embeddings")),
    )


def downgrade():
    op.drop_table("offer_embeddings")

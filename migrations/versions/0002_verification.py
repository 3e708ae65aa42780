"""verification: approved status, review decisions, batch releaser

Revision ID: 0002_verification
Revises: 0001_foundation
"""
from alembic import op
import sqlalchemy as sa

revision = "0002_verification"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

NEW_STATUSES = "('draft', 'submitted', 'changes_requested', 'approved', 'published', 'rejected', 'archived')"
OLD_STATUSES = "('draft', 'submitted', 'changes_requested', 'published', 'rejected', 'archived')"


def upgrade():
    with op.batch_alter_table("offers") as batch_op:
        batch_op.drop_constraint(op.f("ck_offers_status"), type_="check")
        batch_op.create_check_constraint("status", f"status IN {NEW_STATUSES}")
    with op.batch_alter_table("batches") as batch_op:
        batch_op.add_column(sa.Column("released_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_batches_released_by_id_users"), "users", ["released_by_id"], ["id"],
                                    ondelete="SET NULL")
    op.create_table(
        "review_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("decision IN ('approve', 'reject', 'request_changes')",
                           name=op.f("ck_review_decisions_decision")),
        sa.ForeignKeyConstraint(["offer_id"], ["offers.id"], name=op.f("fk_review_decisions_offer_id_offers"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["reviewer_id"], ["users.id"], name=op.f("fk_review_decisions_reviewer_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_decisions")),
    )
    with op.batch_alter_table("review_decisions") as batch_op:
        batch_op.create_index(batch_op.f("ix_review_decisions_offer_id"), ["offer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_decisions_decided_at"), ["decided_at"], unique=False)


def downgrade():
    op.drop_table("review_decisions")
    with op.batch_alter_table("batches") as batch_op:
        batch_op.drop_constraint(op.f("fk_batches_released_by_id_users"), type_="foreignkey")
        batch_op.drop_column("released_by_id")
    with op.batch_alter_table("offers") as batch_op:
        batch_op.drop_constraint(op.f("ck_offers_status"), type_="check")
        batch_op.create_check_constraint("status", f"status IN {OLD_STATUSES}")

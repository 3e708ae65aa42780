"""challenge evaluation: the challenger's requests for more information to shortlisted solvers

Revision ID: 0025_challenge_eval
Revises: 0024_challenges
"""
from alembic import op
import sqlalchemy as sa

revision = "0025_challenge_eval"
down_revision = "0024_challenges"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "challenge_info_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("challenge_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("asked_by_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["challenge_id"], ["challenges.id"],
                                name=op.f("fk_challenge_info_requests_challenge_id_challenges"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["proposal_id"], ["challenge_proposals.id"],
                                name=op.f("fk_challenge_info_requests_proposal_id_challenge_proposals"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["asked_by_id"], ["users.id"],
                                name=op.f("fk_challenge_info_requests_asked_by_id_users"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["answered_by_id"], ["users.id"],
                                name=op.f("fk_challenge_info_requests_answered_by_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenge_info_requests")),
    )
    with op.batch_alter_table("challenge_info_requests") as batch:
        batch.create_index(batch.f("ix_challenge_info_requests_challenge_id"), ["challenge_id"], unique=False)
        batch.create_index(batch.f("ix_challenge_info_requests_proposal_id"), ["proposal_id"], unique=False)


def downgrade():
    op.drop_table("challenge_info_requests")

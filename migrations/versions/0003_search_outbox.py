"""search outbox

Revision ID: 0003_search_outbox
Revises: 0002_verification
"""
from alembic import op
import sqlalchemy as sa

revision = "0003_search_outbox"
down_revision = "0002_verification"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "index_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("index_name", sa.String(length=40), nullable=False),
        sa.Column("doc_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_outbox")),
    )
    with op.batch_alter_table("index_outbox") as batch_op:
        batch_op.create_index(batch_op.f("ix_index_outbox_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_index_outbox_done_at"), ["done_at"], unique=False)


def downgrade():
    op.drop_table("index_outbox")

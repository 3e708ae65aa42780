"""outbox claims: a relay claims the entries it delivers (claimed_by, claimed_at), so relays running at the
same time never deliver the same document at once; an index on (index_name, doc_id) for the in-flight check

Revision ID: 0014_outbox_claims
Revises: 0013_user_sessions
"""
from alembic import op
import sqlalchemy as sa

revision = "0014_outbox_claims"
down_revision = "0013_user_sessions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("index_outbox") as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_index_outbox_document", ["index_name", "doc_id"], unique=False)


def downgrade():
    with op.batch_alter_table("index_outbox") as batch_op:
        batch_op.drop_index("ix_index_outbox_document")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("claimed_by")

"""submission keys (a form or API call sent twice creates one thing) and partial unique indexes for the
"one active X per Y" rules: one live brokered introduction per need and offer, one pending verification
request per organisation, one pending access request per person and item

Revision ID: 0015_submission_keys
Revises: 0016_edit_versions
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_submission_keys"
down_revision = "0016_edit_versions"
branch_labels = None
depends_on = None

LIVE_BROKERED = ("source <> 'request' AND need_id IS NOT NULL AND offer_id IS NOT NULL AND stage IN "
                 "('proposed', 'accepted', 'contacted', 'meeting_held', 'nda_signed', 'pilot', 'negotiation')")
PENDING = "status = 'pending'"


def upgrade():
    op.create_table(
        "submission_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_location", sa.String(length=500), nullable=False),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_keys")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_submission_keys_scope_key")),
    )
    with op.batch_alter_table("submission_keys") as batch_op:
        batch_op.create_index(batch_op.f("ix_submission_keys_created_at"), ["created_at"], unique=False)
    op.create_index("uq_introductions_live_pair", "introductions", ["need_id", "offer_id"], unique=True,
                    postgresql_where=sa.text(LIVE_BROKERED), sqlite_where=sa.text(LIVE_BROKERED))
    op.create_index("uq_organization_verifications_pending", "organization_verifications", ["organization_id"],
                    unique=True, postgresql_where=sa.text(PENDING), sqlite_where=sa.text(PENDING))
    op.create_index("uq_access_requests_pending", "access_requests", ["requester_id", "item_type", "item_id"],
                    unique=True, postgresql_where=sa.text(PENDING), sqlite_where=sa.text(PENDING))


def downgrade():
    op.drop_index("uq_access_requests_pending", table_name="access_requests")
    op.drop_index("uq_organization_verifications_pending", table_name="organization_verifications")
    op.drop_index("uq_introductions_live_pair", table_name="introductions")
    with op.batch_alter_table("submission_keys") as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_keys_created_at"))
    op.drop_table("submission_keys")

"""match fit: organisation stage and declared group, financing terms and "allow uncertified" on needs,
structured eligibility on financial products, calibrated strength, grouping and flags on match suggestions

Revision ID: 0018_match_fit
Revises: 0022_liaison
"""
from alembic import op
import sqlalchemy as sa

revision = "0018_match_fit"
down_revision = "0022_liaison"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organizations") as batch_op:
        batch_op.add_column(sa.Column("growth_stage", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("group_parent_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_organizations_group_parent_id", ["group_parent_id"], unique=False)
        batch_op.create_foreign_key("fk_organizations_group_parent_id_organizations", "organizations",
                                    ["group_parent_id"], ["id"], ondelete="SET NULL")
    with op.batch_alter_table("needs") as batch_op:
        batch_op.add_column(sa.Column("allow_uncertified", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("term_months", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("max_rate_pct", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("collateral_available", sa.Boolean(), nullable=True))
    with op.batch_alter_table("financial_details") as batch_op:
        batch_op.add_column(sa.Column("collateral_required", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("park_only", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("eligible_sizes", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column("eligible_fields", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column("eligible_stages", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    with op.batch_alter_table("match_suggestions") as batch_op:
        batch_op.add_column(sa.Column("strength", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("similar_to_offer_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("flags", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade():
    with op.batch_alter_table("match_suggestions") as batch_op:
        batch_op.drop_column("flags")
        batch_op.drop_column("similar_to_offer_id")
        batch_op.drop_column("strength")
    with op.batch_alter_table("financial_details") as batch_op:
        for name in ("eligible_stages", "eligible_fields", "eligible_sizes", "park_only", "collateral_required"):
            batch_op.drop_column(name)
    with op.batch_alter_table("needs") as batch_op:
        for name in ("collateral_available", "max_rate_pct", "term_months", "allow_uncertified"):
            batch_op.drop_column(name)
    with op.batch_alter_table("organizations") as batch_op:
        batch_op.drop_constraint("fk_organizations_group_parent_id_organizations", type_="foreignkey")
        batch_op.drop_index("ix_organizations_group_parent_id")
        batch_op.drop_column("group_parent_id")
        batch_op.drop_column("growth_stage")

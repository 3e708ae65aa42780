"""patent funnel stage counts kept per stage: patent_stage_tallies, and the stage each patent is counted under

The funnel counted every stage from patent_details joined to offers on each page (100,000+ rows after a large
import); services/funnel_counts.py now keeps the counts in the same transaction as each change. Filled here from
the records, with the funnel's rule (active offers, submitted or created by staff).

Revision ID: 0036_funnel_stage_counts
Revises: 0035_import_resume
"""
import sqlalchemy as sa
from alembic import op

revision = "0036_funnel_stage_counts"
down_revision = "0035_import_resume"
branch_labels = None
depends_on = None

IN_FUNNEL = """offers.kind = 'patent' AND offers.status NOT IN ('rejected', 'archived')
    AND (offers.status NOT IN ('draft', 'changes_requested')
         OR offers.created_by_id IN (SELECT user_id FROM user_roles WHERE role IN ('operator', 'admin')))"""


def upgrade():
    with op.batch_alter_table("patent_details", schema=None) as batch_op:
        batch_op.add_column(sa.Column("counted_stage", sa.String(length=12), nullable=True))
    op.create_table(
        "patent_stage_tallies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=12), nullable=False),
        sa.Column("patents", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patent_stage_tallies")),
    )
    op.execute(f"UPDATE patent_details SET counted_stage = curation_stage "
               f"WHERE offer_id IN (SELECT offers.id FROM offers WHERE {IN_FUNNEL})")
    op.execute("INSERT INTO patent_stage_tallies (stage, patents) SELECT counted_stage, COUNT(*) FROM patent_details "
               "WHERE counted_stage IS NOT NULL GROUP BY counted_stage")


def downgrade():
    op.drop_table("patent_stage_tallies")
    with op.batch_alter_table("patent_details", schema=None) as batch_op:
        batch_op.drop_column("counted_stage")

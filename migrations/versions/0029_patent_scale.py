"""Patents at scale: an index serving the curation funnel's pages (stage, best score first).

Revision ID: 0029_patent_scale
Revises: 0027_event_feedback
"""
from alembic import op

revision = "0029_patent_scale"
down_revision = '0027_event_feedback'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("patent_details", schema=None) as batch_op:
        batch_op.create_index("ix_patent_details_stage_score", ["curation_stage", "value_score", "offer_id"],
                              unique=False)


def downgrade():
    with op.batch_alter_table("patent_details", schema=None) as batch_op:
        batch_op.drop_index("ix_patent_details_stage_score")

"""patent funnel order index: one stage, best score first with unscored patents last, as the funnel pages it

The (curation_stage, value_score, offer_id) index read backwards gives "scores descending, NULLs first" on
PostgreSQL, so there every funnel page sorted the whole stage (100,000 patents after a large import).

Revision ID: 0035_import_resume
Revises: 0028_page_indexes
"""
import sqlalchemy as sa
from alembic import op

revision = "0035_import_resume"
down_revision = "0033_need_embeddings"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite reads the existing index backwards in this order already
    op.create_index("ix_patent_details_stage_score_desc", "patent_details",
                    ["curation_stage", sa.text("value_score DESC NULLS LAST"), sa.text("offer_id DESC")])


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_patent_details_stage_score_desc", table_name="patent_details")

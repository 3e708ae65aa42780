"""edit versions: offers, needs, organisations, events and introductions carry a version that every save
bumps, so a form or API call that started from an older version is refused instead of undoing a newer save

Revision ID: 0016_edit_versions
Revises: 0017_import_jobs
"""
from alembic import op
import sqlalchemy as sa

revision = "0016_edit_versions"
down_revision = "0017_import_jobs"
branch_labels = None
depends_on = None

TABLES = ("offers", "needs", "organizations", "events", "introductions")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("version", sa.Integer(), server_default="1", nullable=False))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("version")

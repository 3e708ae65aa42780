"""import jobs: import_runs records each uploaded file imported as a background job (who, file, status,
progress, created and updated record ids, problems by row); active_key keeps one run of a submission at a time

Revision ID: 0017_import_jobs
Revises: 0023_programmes
"""
from alembic import op
import sqlalchemy as sa

revision = "0017_import_jobs"
down_revision = "0023_programmes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "import_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("entity", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("active_key", sa.String(length=64), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("weights", sa.JSON(), nullable=True),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("created_count", sa.Integer(), nullable=False),
        sa.Column("updated_count", sa.Integer(), nullable=False),
        sa.Column("created_ids", sa.JSON(), nullable=False),
        sa.Column("updated_ids", sa.JSON(), nullable=False),
        sa.Column("skipped_rows", sa.JSON(), nullable=False),
        sa.Column("row_errors", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_import_runs_status")),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"],
                                name=op.f("fk_import_runs_organization_id_organizations"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_import_runs_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_runs")),
        sa.UniqueConstraint("active_key", name=op.f("uq_import_runs_active_key")),
    )
    with op.batch_alter_table("import_runs") as batch_op:
        batch_op.create_index("ix_import_runs_user_id", ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("import_runs") as batch_op:
        batch_op.drop_index("ix_import_runs_user_id")
    op.drop_table("import_runs")

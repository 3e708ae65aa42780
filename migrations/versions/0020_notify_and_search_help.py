"""notify and search help: notification kinds "review" (a firm's offers verified, sent back, rejected,
published), "submission" (new submissions, for operators) and "meeting" (1:1 meeting requests and answers,
presenter assignment); the daily digest (channel "digest", e-mail state "digest"); popular search words

Revision ID: 0020_notify_and_search_help
Revises: 0014_outbox_claims
"""
from alembic import op
import sqlalchemy as sa

revision = "0020_notify_and_search_help"
down_revision = "0014_outbox_claims"
branch_labels = None
depends_on = None

OLD_KINDS = ("introduction", "reply", "stage", "followup_due", "strong_match", "rating_request", "saved_search",
             "access", "event", "security", "message", "organization")
NEW_KINDS = OLD_KINDS + ("review", "submission", "meeting")
OLD_CHANNELS = ("site", "email")
NEW_CHANNELS = ("site", "email", "digest")
OLD_EMAIL_STATES = ("none", "pending", "sent", "failed")
NEW_EMAIL_STATES = ("none", "pending", "digest", "sent", "failed")


def _replace_check(table, name, condition):
    with op.batch_alter_table(table) as batch_op:
        batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
        batch_op.create_check_constraint(op.f(f"ck_{table}_{name}"), condition)


def upgrade():
    for table in ("notifications", "notification_preferences"):
        _replace_check(table, "kind", f"kind IN {NEW_KINDS}")
    _replace_check("notification_preferences", "channel", f"channel IN {NEW_CHANNELS}")
    _replace_check("notifications", "email_state", f"email_state IN {NEW_EMAIL_STATES}")
    op.create_table(
        "search_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_counted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_terms")),
        sa.UniqueConstraint("term", name=op.f("uq_search_terms_term")),
    )
    with op.batch_alter_table("search_terms") as batch_op:
        batch_op.create_index(batch_op.f("ix_search_terms_count"), ["count"], unique=False)


def downgrade():
    with op.batch_alter_table("search_terms") as batch_op:
        batch_op.drop_index(batch_op.f("ix_search_terms_count"))
    op.drop_table("search_terms")
    op.execute(f"DELETE FROM notifications WHERE kind NOT IN {OLD_KINDS}")
    op.execute(f"DELETE FROM notification_preferences WHERE kind NOT IN {OLD_KINDS} OR channel NOT IN {OLD_CHANNELS}")
    op.execute("UPDATE notifications SET email_state = 'none' WHERE email_state = 'digest'")
    _replace_check("notifications", "email_state", f"email_state IN {OLD_EMAIL_STATES}")
    _replace_check("notification_preferences", "channel", f"channel IN {OLD_CHANNELS}")
    for table in ("notifications", "notification_preferences"):
        _replace_check(table, "kind", f"kind IN {OLD_KINDS}")

"""lockout notice: notification kind "security" (an account was locked after failed log-ins)

Revision ID: 0010_lockout_notice
Revises: 0009_security
Create Date: 2026-11-23 22:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_lockout_notice'
down_revision = '0009_security'
branch_labels = None
depends_on = None

OLD_KINDS = ("introduction", "reply", "stage", "followup_due", "strong_match", "rating_request", "saved_search",
             "access", "event")
NEW_KINDS = OLD_KINDS + ("security",)


def _set_kinds(kinds):
    """Replace the CHECK constraint on the kind of notifications and notification preferences."""
    for table in ("notifications", "notification_preferences"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_kind"), type_="check")
            batch_op.create_check_constraint(op.f(f"ck_{table}_kind"), f"kind IN {kinds}")


def upgrade():
    _set_kinds(NEW_KINDS)


def downgrade():
    added = tuple(k for k in NEW_KINDS if k not in OLD_KINDS)
    notifications = sa.table("notifications", sa.column("kind", sa.String))
    preferences = sa.table("notification_preferences", sa.column("kind", sa.String))
    op.execute(notifications.delete().where(notifications.c.kind.in_(added)))
    op.execute(preferences.delete().where(preferences.c.kind.in_(added)))
    _set_kinds(OLD_KINDS)

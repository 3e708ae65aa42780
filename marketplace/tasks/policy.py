"""Policy desk jobs: liaison reports past their deadline go to the operators' attention."""
from __future__ import annotations

from datetime import datetime, timezone

from marketplace.services.policy import liaison
from marketplace.services.policy.liaison import ESCALATE_JOB
from marketplace.tasks.base import task


@task(ESCALATE_JOB)
def escalate_overdue_reports(now=None) -> dict:
    """Mark open reports past their answer date as overdue (shown first on every desk, operators' included)."""
    escalated = liaison.escalate_overdue(now or datetime.now(timezone.utc))
    return {"escalated": len(escalated)}

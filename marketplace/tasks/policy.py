"""Policy desk jobs: liaison reports past their deadline go to the operators' attention; firms hear of measures
that may fit them."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from marketplace.services.policy import announcements, liaison, surveys
from marketplace.services.policy.announcements import ANNOUNCE_JOB
from marketplace.services.policy.surveys import REMIND_JOB
from marketplace.settings import current_settings
from marketplace.services.policy.liaison import ESCALATE_JOB
from marketplace.tasks.base import task


@task(ESCALATE_JOB)
def escalate_overdue_reports(now=None) -> dict:
    """Mark open reports past their answer date as overdue (shown first on every desk, operators' included)."""
    escalated = liaison.escalate_overdue(now or datetime.now(timezone.utc))
    return {"escalated": len(escalated)}


@task(ANNOUNCE_JOB)
def announce_measure(measure_id: int, today: str | None = None) -> dict:
    """Tell the firms a new or changed measure may fit (once a day per firm and measure)."""
    day = date.fromisoformat(today) if today else datetime.now(ZoneInfo(current_settings().default_timezone)).date()
    return {"organizations": announcements.announce(measure_id, today=day)}


@task(REMIND_JOB)
def remind_surveys(today: str | None = None) -> dict:
    """Close surveys past their date and remind the firms that have not answered the open ones (once a day)."""
    day = date.fromisoformat(today) if today else datetime.now(ZoneInfo(current_settings().default_timezone)).date()
    return surveys.remind(today=day)

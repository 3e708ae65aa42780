"""Brokering jobs: expiry and reminders of unanswered introductions, due follow-ups, rating requests."""
from __future__ import annotations

from marketplace.services import brokering, followups
from marketplace.services.brokering import SWEEP_JOB
from marketplace.services.followups import FOLLOWUPS_JOB, RATING_JOB
from marketplace.settings import current_settings
from marketplace.tasks.base import task


@task(SWEEP_JOB)
def expire_and_remind(now=None) -> dict:
    """Expire unanswered requests past their time and remind the sides of those about to expire."""
    return brokering.expire_and_remind(current_settings().introduction_reminder_days, now=now)


@task(FOLLOWUPS_JOB)
def followups_due(today=None) -> dict:
    """Tell each open follow-up's owner on its due date, and the broker once it is overdue."""
    return followups.followups_due(today=today)


@task(RATING_JOB)
def request_ratings(now=None) -> dict:
    """Some months after signature or loss, ask each side what has become of the introduction."""
    return followups.request_ratings(current_settings().followup_rating_months, now=now)

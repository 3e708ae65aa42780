"""Event jobs: reminders before roadshows and Spark events start, lapsing meeting requests, no-shows."""
from __future__ import annotations

from marketplace.services import events
from marketplace.services.events import EXPIRY_JOB, NO_SHOW_JOB, REMINDER_HOURS, REMINDER_JOB
from marketplace.tasks.base import task


@task(REMINDER_JOB)
def send_reminders(now=None, hours: int = REMINDER_HOURS) -> dict:
    """Remind every confirmed registrant of a published event starting within ``hours``."""
    return events.send_reminders(now=now, hours=hours)


@task(EXPIRY_JOB)
def expire_meeting_requests(now=None) -> dict:
    """Meeting requests left unanswered past their time (window start or some days) lapse."""
    return events.expire_requests(now=now)


@task(NO_SHOW_JOB)
def record_no_shows(now=None) -> dict:
    """Meetings that ended with one side checked in record the other side as a no-show."""
    return events.record_no_shows(now=now)

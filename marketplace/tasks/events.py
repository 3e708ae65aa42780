"""Event jobs: reminders before roadshows and Spark events start."""
from __future__ import annotations

from marketplace.services import events
from marketplace.services.events import REMINDER_HOURS, REMINDER_JOB
from marketplace.tasks.base import task


@task(REMINDER_JOB)
def send_reminders(now=None, hours: int = REMINDER_HOURS) -> dict:
    """Remind every confirmed registrant of a published event starting within ``hours``."""
    return events.send_reminders(now=now, hours=hours)

"""Event feedback job: ask the participants of events that just ended to rate them."""
from __future__ import annotations

from marketplace.services.events import reporting
from marketplace.tasks.base import task


@task(reporting.FEEDBACK_JOB)
def request_feedback(now=None, days: int = reporting.FEEDBACK_REQUEST_DAYS) -> dict:
    """Notify each participant of an event that ended in the last ``days`` once, unless they rated it."""
    return reporting.request_feedback(now=now, days=days)

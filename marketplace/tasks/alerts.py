"""Alert jobs: saved-search alerts (immediate and daily) and strong-match announcements."""
from __future__ import annotations

import logging

from marketplace.services import alerts
from marketplace.services.alerts import ALERTS_JOB
from marketplace.services.unit_of_work import unit_of_work
from marketplace.settings import current_settings
from marketplace.tasks.base import task

log = logging.getLogger(__name__)


@task(ALERTS_JOB)
def run(frequency: str | None = None, now=None) -> dict:
    """Immediate alerts, and daily digests that are due (``frequency`` restricts to one of them)."""
    return alerts.run(current_settings().saved_search_max_results, frequency=frequency, now=now)


def after_matching(need_ids=None) -> dict:
    """After a matching job's commit: announce strong new top matches, then run immediate alerts.

    Each step is its own unit of work; a failure is logged and never undoes the matching run.
    """
    settings = current_settings()
    try:
        with unit_of_work():
            told = alerts.announce_strong_matches(settings.strong_match_threshold, need_ids)
        result = run(frequency="immediate")
    except Exception:  # alerts must never undo or fail a matching run
        log.exception("alerts after matching failed")
        return {"strong_matches": 0}
    return dict(result, strong_matches=told)

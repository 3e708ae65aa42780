"""Challenge jobs: close the published challenges whose submission deadline has passed."""
from __future__ import annotations

from marketplace.services.challenges import publishing
from marketplace.services.challenges.publishing import CLOSE_JOB
from marketplace.tasks.base import task


@task(CLOSE_JOB)
def close_due() -> dict:
    """Move published challenges past their deadline to "closed" (pages show them closed at once anyway)."""
    return {"closed": publishing.close_due()}

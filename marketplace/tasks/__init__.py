"""Background work, one module per domain; each job runs inside its own unit of work.

Jobs are registered by name in ``marketplace.jobs`` when their module is imported: the app factory
calls ``register_tasks`` so the web process (jobs in-process after the commit) and the RQ worker
(``flask worker``) know the same jobs. Callers enqueue a job by the name constant its domain declares
(``services.matching.REBUILD_JOB``…) or call the task function directly (commands, tests).
"""
from __future__ import annotations


def register_tasks() -> None:
    """Import every task module so that its jobs are registered (idempotent)."""
    from marketplace.tasks import (alerts, brokering, challenges, events, imports, matching,  # noqa: F401
                                   notifications, organizations, policy, search, submissions)
    from marketplace.tasks import event_feedback  # noqa: F401

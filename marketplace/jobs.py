"""A small job runner: in-process right after the commit, or RQ workers when ``REDIS_URL`` is set.

Jobs are named functions registered with ``@job``; callers ``enqueue`` them during a unit of work and
they run only once that work has committed (so a job never sees uncommitted or rolled-back data).
"""
from __future__ import annotations

import logging
from typing import Callable

from flask import current_app

log = logging.getLogger(__name__)
REGISTRY: dict[str, Callable[..., object]] = {}
QUEUE_NAME = "techbridge"
RANK_COALESCE_THRESHOLD = 20


def job(name: str):
    """Register ``func`` under ``name`` so workers can find it by name."""
    def register(func):
        REGISTRY[name] = func
        return func
    return register


def enqueue(session, name: str, **kwargs) -> None:
    """Schedule job ``name`` to run after ``session`` commits (deduplicated by name and arguments)."""
    pending = session.info.setdefault("pending_jobs", [])
    item = (name, tuple(sorted(kwargs.items())))
    if item not in pending:
        pending.append(item)


def discard_pending(session) -> None:
    session.info.pop("pending_jobs", None)


def dispatch_pending(session) -> None:
    """Called by the unit of work after a successful commit."""
    pending = session.info.pop("pending_jobs", [])
    ranks = [item for item in pending if item[0] == "matching.rank_need"]
    if len(ranks) > RANK_COALESCE_THRESHOLD:
        # Many needs changed at once (an import): one refit is cheaper than many single rankings.
        pending = [item for item in pending if item[0] != "matching.rank_need"]
        if ("matching.rebuild", ()) not in pending:
            pending.append(("matching.rebuild", ()))
    for name, args in pending:
        dispatch(name, dict(args))


def dispatch(name: str, kwargs: dict) -> None:
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        from redis import Redis
        from rq import Queue
        Queue(QUEUE_NAME, connection=Redis.from_url(redis_url)).enqueue(run_job_in_worker, name, kwargs,
                                                                         job_timeout=600)
        return
    try:
        run_job(name, kwargs)
    except Exception:  # an in-process job must never break the request that committed
        log.exception("job %s failed", name)


def run_job(name: str, kwargs: dict):
    """Run a registered job in the current app context."""
    _import_job_modules()
    return REGISTRY[name](**kwargs)


def run_job_in_worker(name: str, kwargs: dict):
    """Entry point for RQ workers: build an app, run the job inside its context."""
    from marketplace import create_app
    app = create_app()
    with app.app_context():
        return run_job(name, kwargs)


def _import_job_modules() -> None:
    # Job functions live next to their domain; importing registers them.
    from marketplace import search_index  # noqa: F401
    from marketplace.services import brokering, matching  # noqa: F401

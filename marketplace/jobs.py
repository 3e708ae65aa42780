"""Job plumbing: a registry of named jobs, enqueueing during a unit of work, dispatch after its commit.

Only plumbing lives here: no domain module is imported. The jobs themselves are functions in
``marketplace.tasks.<domain>``, registered with ``@job(NAME)`` under a name constant that the domain
module owning the work declares (``services.matching.REBUILD_JOB``…), so callers never spell a name.
Without ``REDIS_URL`` a job runs in-process right after the commit; with it, an RQ worker runs it
(``flask worker``: one app context per worker process), or this process when Redis cannot be reached.
Long jobs registered with ``background=True`` (an import of 100,000 rows) never run inside the request:
in-process they run on a thread of their own with its own app context (``BACKGROUND_JOBS = "thread"``; tests
set "inline" to run them at once, or "deferred" to leave them to the sweep that resumes them).
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from flask import current_app, has_app_context

log = logging.getLogger(__name__)
REGISTRY: dict[str, Callable[..., object]] = {}
COALESCE: dict[str, tuple[str, int]] = {}  # job name -> (job replacing many of them, above how many)
BACKGROUND: set[str] = set()  # jobs run on a thread of their own when run in-process
TIMEOUTS: dict[str, int] = {}  # job name -> seconds an RQ worker lets it run, when not JOB_TIMEOUT_SECONDS
_threads: list[threading.Thread] = []
QUEUE_NAME = "techbridge"
JOB_TIMEOUT_SECONDS = 600
BROKER_TIMEOUT_SECONDS = 3  # an unreachable Redis must not hold a request for long


def job(name: str, coalesce_into: str | None = None, coalesce_above: int = 20, *, background: bool = False,
        timeout_seconds: int | None = None):
    """Register the decorated function under ``name`` so the dispatcher and workers find it.

    ``coalesce_into`` names a job that replaces more than ``coalesce_above`` pending calls of this one
    from a single unit of work (an import touching many needs: one refit beats many single rankings).
    ``background``: in-process, run it on a thread, not in the request that queued it. ``timeout_seconds``:
    how long an RQ worker lets it run (default ``JOB_TIMEOUT_SECONDS``).
    """
    def register(func):
        REGISTRY[name] = func
        if coalesce_into:
            COALESCE[name] = (coalesce_into, coalesce_above)
        if background:
            BACKGROUND.add(name)
        if timeout_seconds:
            TIMEOUTS[name] = timeout_seconds
        func.job_name = name
        return func
    return register


def enqueue(session, name: str, **kwargs) -> None:
    """Schedule job ``name`` to run after ``session`` commits (deduplicated by name and arguments)."""
    pending = session.info.setdefault("pending_jobs", [])
    item = (name, tuple(sorted(kwargs.items())))
    if item not in pending:
        pending.append(item)


def discard_pending(session) -> None:
    """Forget the jobs of a unit of work that rolled back."""
    session.info.pop("pending_jobs", None)


def dispatch_pending(session) -> None:
    """Run or queue the jobs waiting on ``session``; called by the unit of work after its commit."""
    pending = session.info.pop("pending_jobs", [])
    for name, (replacement, above) in COALESCE.items():
        if sum(1 for item in pending if item[0] == name) > above:
            pending = [item for item in pending if item[0] != name]
            if (replacement, ()) not in pending:
                pending.append((replacement, ()))
    for name, args in pending:
        dispatch(name, dict(args))


def dispatch(name: str, kwargs: dict) -> None:
    """Hand one job to the RQ queue (``REDIS_URL``) or run it here; an in-process failure is only logged.

    When the queue cannot be reached the job runs here instead (with a warning): the unit of work that
    asked for it has committed, so dropping it would lose acknowledged work.
    """
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        try:
            _enqueue_on_broker(redis_url, name, kwargs)
            return
        except Exception as exc:  # any broker failure: the work must still happen
            log.warning("job queue unreachable (%s: %s): running %s in this process", exc.__class__.__name__,
                        exc, name)
    if name in BACKGROUND:
        mode = current_app.config.get("BACKGROUND_JOBS", "thread")
        if mode == "deferred":
            return  # left to the sweep, which takes up queued work whose job is gone
        if mode == "thread":
            _start_thread(name, kwargs)
            return
    try:
        run_job(name, kwargs)
    except Exception:  # an in-process job must never break the request that committed
        log.exception("job %s failed", name)


def _start_thread(name: str, kwargs: dict) -> None:
    app = current_app._get_current_object()

    def work() -> None:
        with app.app_context():  # its own context, hence its own database session
            try:
                run_job(name, kwargs)
            except Exception:  # nobody waits for this thread: log, the job records its own failure
                log.exception("background job %s failed", name)

    thread = threading.Thread(target=work, name=f"job:{name}", daemon=True)
    _threads[:] = [t for t in _threads if t.is_alive()]
    _threads.append(thread)
    thread.start()


def wait_for_background(timeout: float | None = None) -> bool:
    """Wait for the background job threads of this process to end; True when none is left running."""
    for thread in list(_threads):
        thread.join(timeout)
    return not any(t.is_alive() for t in _threads)


def _enqueue_on_broker(redis_url: str, name: str, kwargs: dict) -> None:
    from redis import Redis
    from rq import Queue
    connection = Redis.from_url(redis_url, socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
                                socket_timeout=BROKER_TIMEOUT_SECONDS)
    Queue(QUEUE_NAME, connection=connection).enqueue(run_job_in_worker, name, kwargs,
                                                     job_timeout=TIMEOUTS.get(name, JOB_TIMEOUT_SECONDS))


def run_job(name: str, kwargs: dict):
    """Run a registered job in the current app context."""
    try:
        func = REGISTRY[name]
    except KeyError:
        raise LookupError(f"no job registered as {name!r} (is marketplace.tasks loaded?)") from None
    return func(**kwargs)


def run_job_in_worker(name: str, kwargs: dict):
    """Entry point for RQ: the worker (``flask worker``) runs every job inside its one app context."""
    if not has_app_context():
        raise RuntimeError("TechBridge jobs run in `flask --app wsgi worker`, which provides the app context")
    return run_job(name, kwargs)

"""The decorator that turns a function into a job running inside one unit of work."""
from __future__ import annotations

import functools

from marketplace import jobs
from marketplace.services.unit_of_work import unit_of_work


def task(name: str, **options):
    """Register ``func`` as job ``name``; each call runs in its own unit of work (commit, then its jobs).

    ``options`` go to ``jobs.job`` (coalescing many pending calls into one other job).
    """
    def decorate(func):
        @functools.wraps(func)
        def run(**kwargs):
            with unit_of_work():
                return func(**kwargs)
        return jobs.job(name, **options)(run)
    return decorate

"""Popular-search counts gathered in each process and written together every few seconds.

Most anonymous searches are served from the page cache without drawing the page, and the search then counts
as the page's replay note (``page_cache.note_for_replay``): counting each one with its own write would turn
every cached search into a database transaction. Instead each process adds the words to a pending tally and
writes the tally in one transaction when ``SEARCH_COUNT_INTERVAL`` seconds have passed since the first
pending word (0, as in tests: at once). A failed write keeps the tally for the next try; what a worker still
holds when it stops is written by gunicorn's ``worker_exit`` hook, so at most the last interval's counts of a
crashed worker are lost (counts are statistics, never anything a user was told was saved).
"""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from marketplace.services import search_terms
from marketplace.services.errors import Conflict
from marketplace.services.unit_of_work import unit_of_work

log = logging.getLogger(__name__)
EXTENSION = "tb_search_counts"
MAX_PENDING_TERMS = 10_000  # distinct words held while the database refuses writes; beyond, new words wait


class PendingCounts:
    """Words counted in this process and not yet written, with the time the oldest was counted."""

    def __init__(self, interval: float, clock=time.monotonic):
        self.interval = interval
        self.clock = clock
        self._counts: Counter[str] = Counter()
        self._since: float | None = None
        self._lock = threading.Lock()

    def add(self, term: str, times: int = 1) -> None:
        with self._lock:
            if term not in self._counts and len(self._counts) >= MAX_PENDING_TERMS:
                return
            self._counts[term] += times
            if self._since is None:
                self._since = self.clock()

    def take(self, force: bool = False) -> Counter[str]:
        """The pending counts, emptied, when ``interval`` seconds have passed since the first (or ``force``);
        an empty tally otherwise."""
        with self._lock:
            if not self._counts or not (force or self.clock() - self._since >= self.interval):
                return Counter()
            counts, self._counts, self._since = self._counts, Counter(), None
            return counts

    def give_back(self, counts: Counter[str]) -> None:
        """Counts whose write failed, kept for the next try."""
        for term, times in counts.items():
            self.add(term, times)


def init_app(app) -> None:
    """Give the app its tally (``SEARCH_COUNT_INTERVAL`` seconds, read once; an environment value is text)."""
    app.extensions[EXTENSION] = PendingCounts(float(app.config.get("SEARCH_COUNT_INTERVAL") or 0))


def record(term: str) -> None:
    """Count one search for ``term`` (normalised, and known to find something public); written now or with the
    next tally that is due."""
    current_app.extensions[EXTENSION].add(term)
    flush()


def flush(force: bool = False) -> int:
    """Write the pending counts when due (or ``force``) in one unit of work; returns how many searches were
    written. A database error keeps them pending and is only logged: the page is already drawn."""
    pending: PendingCounts = current_app.extensions[EXTENSION]
    counts = pending.take(force)
    if not counts:
        return 0
    try:
        with unit_of_work():
            search_terms.add_counts(counts)
    except (SQLAlchemyError, Conflict) as exc:  # locked, restarting, or raced at the commit
        pending.give_back(counts)
        log.warning("popular-search counts not written yet (%s): kept for the next try", exc.__class__.__name__)
        return 0
    return sum(counts.values())

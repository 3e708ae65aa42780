"""Statements built once per process and viewer, then run with parameters.

Building a select with its visibility clause costs more than running it on a busy page (an offer's page runs a
few small ones). What changes between two runs of such a statement is only parameters (an id, a kind), except the
visibility clause, which depends on the viewer's tokens alone (``visibility.Rule.clause``). So the statement is
built once per set of tokens, with ``bindparam`` for the rest, and kept (a few hundred per statement at most).
SQL statements are immutable: the same one may run in many requests and threads at once.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable

from marketplace import visibility

KEPT = 256  # statements kept per builder (anonymous visitors share one; each signed-in viewer has their own)


class PerViewer:
    """``PerViewer(build)(user, *key)``: ``build(viewer, *key)``, kept per viewer tokens and key.

    ``build`` may use the viewer only through its visibility clauses (which depend on nothing but its tokens);
    everything that varies per call must be a ``bindparam`` or part of ``key``."""

    def __init__(self, build: Callable, kept: int = KEPT) -> None:
        self._build = build
        self._kept = kept
        self._built: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, user, *key):
        viewer = visibility.viewer_of(user)
        cache_key = (viewer.tokens, *key)
        with self._lock:
            statement = self._built.get(cache_key)
        if statement is None:
            statement = self._build(viewer, *key)
            with self._lock:
                self._built[cache_key] = statement
                if len(self._built) > self._kept:
                    self._built.popitem(last=False)
        return statement

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
from contextlib import contextmanager

from marketplace import visibility
from marketplace.extensions import db

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


@contextmanager
def nested_loop_joins():
    """Joins in the block are planned as nested loops through indexes, for the parameters at hand (PostgreSQL;
    nothing elsewhere).

    For a few rows reached through an index (the offers of one field), PostgreSQL's default costs, made for
    disks, often prefer hashing every row of the other side; and once psycopg prepares a statement (its sixth
    run on a connection) PostgreSQL may keep one generic plan for every parameter. One round trip sets the three
    switches for this transaction and one restores them."""
    postgres = db.session.get_bind().dialect.name == "postgresql"
    if postgres:
        db.session.connection().exec_driver_sql("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; "
                                                "SET LOCAL plan_cache_mode = force_custom_plan")
    yield
    # Not on an error: the transaction is then rolled back, which ends SET LOCAL too, and a statement sent on an
    # aborted transaction would hide the error that aborted it (a database gone away must stay that error).
    if postgres:
        db.session.connection().exec_driver_sql(
            "SET LOCAL enable_hashjoin TO DEFAULT; SET LOCAL enable_mergejoin TO DEFAULT; "
            "SET LOCAL plan_cache_mode TO DEFAULT")

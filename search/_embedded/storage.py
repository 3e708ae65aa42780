"""Storage side shared by the embedded backends: the database connection, the registry of index
generations, and the hooks each SQL dialect implements."""
from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ..base import IndexSpec, SearchBackend, SearchError, SearchUnavailable
from ..text import TermGroup
from .columns import ColumnStore
from .layout import Layout
from .sql import SqlParams

REGISTRY_TABLE = "search_indexes"
# One counter per generation (keyed by its docs table), bumped by every write in the write's transaction:
# readers holding columns in memory (``columns.ColumnStore``) compare it to know when to reload them.
REVISIONS_TABLE = "search_index_revisions"
# The seqs each revision touched, so readers bring their columns up to date without reading everything again;
# the last CHANGES_KEPT revisions are kept (a reader further behind reads everything).
CHANGES_TABLE = "search_index_changes"
CHANGES_KEPT = 200


class EmbeddedStorage(SearchBackend):
    """Connection, registry and dialect hooks; ``EmbeddedBackend`` adds the writes and the queries."""

    def __init__(self, engine: Engine | str, index_prefix: str = "", column_cache: bool = True) -> None:
        self.engine = sa.create_engine(engine) if isinstance(engine, str) else engine
        if index_prefix and not all(c.isalnum() or c == "_" for c in index_prefix):
            raise SearchError(f"invalid index_prefix {index_prefix!r}")
        self.index_prefix = index_prefix.lower()
        self._registry_ready = False
        self.column_cache = column_cache
        self._columns: dict[str, ColumnStore] = {}
        self._columns_lock = threading.Lock()

    # ------------------------------------------------------------------ dialect hooks

    def _prepare(self, conn: Connection) -> None:
        """One-time setup (extensions...)."""

    def _create_tables(self, conn: Connection, layout: Layout) -> None:
        raise NotImplementedError

    def _drop_tables(self, conn: Connection, layout: Layout) -> None:
        for table in layout.tables():
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table}"'))
        conn.execute(sa.text(f"DELETE FROM {REVISIONS_TABLE} WHERE name = :name"), {"name": layout.docs})
        conn.execute(sa.text(f"DELETE FROM {CHANGES_TABLE} WHERE name = :name"), {"name": layout.docs})

    def _match_sql(self, layout: Layout, groups: list[TermGroup], params: SqlParams,
                   conn: Connection | None = None) -> str:
        """SQL condition on alias `d` true when every group matches (``conn`` lets a dialect check which
        optional tables the generation has; without it, only those every generation has are used)."""
        raise NotImplementedError

    def _insert_vocab(self, conn: Connection, layout: Layout, words: set[str]) -> None:
        raise NotImplementedError

    def _after_docs_inserted(self, conn: Connection, layout: Layout, rows: list[dict]) -> None:
        """rows carry seq and search_text (SQLite feeds its FTS table)."""

    def _before_docs_deleted(self, conn: Connection, layout: Layout, rows: list[tuple[int, str]]) -> None:
        """rows are (seq, search_text) of documents about to be deleted."""

    def _lock_for_write(self, conn: Connection, layout: Layout) -> None:
        """Serialise the writers of one index generation for the rest of the transaction, so the rows a write
        reads before replacing them (sequence numbers, old text for the full-text table) are still current
        when it replaces them: concurrent upserts of the same document then end in the last one's state."""

    def _refresh_statistics(self, layout: Layout) -> None:
        """Update planner statistics after bulk writes (bad plans otherwise right after a load)."""
        with self._begin() as conn:
            for table in (layout.docs, layout.fields):
                conn.execute(sa.text(f'ANALYZE "{table}"'))

    def _health_details(self) -> dict:
        return {}

    # ------------------------------------------------------------------ connection and registry

    def physical_name(self, name: str) -> str:
        return f"{self.index_prefix}{name}"

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.OperationalError as exc:
            if is_connection_error(exc):
                raise SearchUnavailable(f"{self.kind} database unavailable: {exc.orig}") from exc
            raise

    def _ensure_registry(self) -> None:
        if self._registry_ready:
            return
        with self._begin() as conn:
            self._prepare(conn)
            conn.execute(sa.text(
                f"CREATE TABLE IF NOT EXISTS {REGISTRY_TABLE} ("
                " name VARCHAR(100) PRIMARY KEY, generation VARCHAR(16) NOT NULL,"
                " spec TEXT NOT NULL, updated_at VARCHAR(40) NOT NULL)"
            ))
            conn.execute(sa.text(
                f"CREATE TABLE IF NOT EXISTS {REVISIONS_TABLE} (name VARCHAR(100) PRIMARY KEY, revision BIGINT NOT NULL)"
            ))
            conn.execute(sa.text(
                f"CREATE TABLE IF NOT EXISTS {CHANGES_TABLE} (name VARCHAR(100) NOT NULL, revision BIGINT NOT NULL,"
                " seq BIGINT NOT NULL)"
            ))
            conn.execute(sa.text(
                f"CREATE INDEX IF NOT EXISTS {CHANGES_TABLE}_by_revision ON {CHANGES_TABLE} (name, revision)"
            ))
        self._registry_ready = True

    def _layout(self, conn: Connection, name: str) -> Layout:
        physical = self.physical_name(name)
        row = conn.execute(
            sa.text(f"SELECT generation, spec FROM {REGISTRY_TABLE} WHERE name = :name"), {"name": physical}
        ).first()
        if row is None:
            raise SearchError(f"index {name!r} does not exist (call ensure_index first)")
        return Layout(physical, row.generation, IndexSpec.from_dict(json.loads(row.spec)))

    def _layout_or_none(self, conn: Connection, name: str) -> Layout | None:
        try:
            return self._layout(conn, name)
        except SearchError:
            return None

    # ------------------------------------------------------------------ revisions and in-memory columns

    def _bump_revision(self, conn: Connection, layout: Layout, seqs: list[int]) -> None:
        """Count a write to ``layout`` touching ``seqs`` (in the writer's transaction, so readers see the
        documents and the revision together), and forget the changes older than ``CHANGES_KEPT`` revisions."""
        name = {"name": layout.docs}
        conn.execute(
            sa.text(f"INSERT INTO {REVISIONS_TABLE} (name, revision) VALUES (:name, 1)"
                    f" ON CONFLICT (name) DO UPDATE SET revision = {REVISIONS_TABLE}.revision + 1"),
            name,
        )
        revision = conn.execute(sa.text(f"SELECT revision FROM {REVISIONS_TABLE} WHERE name = :name"),
                                name).scalar_one()
        conn.execute(sa.text(f"INSERT INTO {CHANGES_TABLE} (name, revision, seq) VALUES (:name, :revision, :seq)"),
                     [{"name": layout.docs, "revision": revision, "seq": int(seq)} for seq in seqs])
        if revision > CHANGES_KEPT:
            conn.execute(sa.text(f"DELETE FROM {CHANGES_TABLE} WHERE name = :name AND revision <= :old"),
                         {"name": layout.docs, "old": revision - CHANGES_KEPT})

    def _forget_changes(self, conn: Connection, layout: Layout) -> None:
        """Drop the change log of a generation nobody reads yet (a reindex being built)."""
        conn.execute(sa.text(f"DELETE FROM {CHANGES_TABLE} WHERE name = :name"), {"name": layout.docs})

    def _columns_for(self, conn: Connection, layout: Layout) -> ColumnStore:
        """This process's columns of ``layout``, brought up to date when writes happened since they were
        read: from the change log when it covers them, else read again in full."""
        revision = conn.execute(sa.text(f"SELECT revision FROM {REVISIONS_TABLE} WHERE name = :name"),
                                {"name": layout.docs}).scalar() or 0
        store = self._columns.get(layout.physical)
        if store is not None and store.docs_table == layout.docs and store.revision == revision:
            return store
        with self._columns_lock:
            store = self._columns.get(layout.physical)
            if store is not None and store.docs_table == layout.docs and store.revision == revision:
                return store
            changed = None
            if store is not None and store.docs_table == layout.docs and store.revision < revision:
                changed = self._changed_since(conn, layout, store.revision)
            if changed is not None and len(changed) <= max(store.size // 4, 1000):
                store = store.updated(conn, layout, changed, revision)
            else:
                store = ColumnStore.load(conn, layout, revision)
            self._columns[layout.physical] = store
        return store

    def _changed_since(self, conn: Connection, layout: Layout, revision: int) -> list[int] | None:
        """Seqs touched after ``revision``, or None when the log no longer reaches back that far."""
        oldest = conn.execute(sa.text(f"SELECT min(revision) FROM {CHANGES_TABLE} WHERE name = :name"),
                              {"name": layout.docs}).scalar()
        if oldest is None or oldest > revision + 1:
            return None
        return list(conn.execute(
            sa.text(f"SELECT DISTINCT seq FROM {CHANGES_TABLE} WHERE name = :name AND revision > :revision"),
            {"name": layout.docs, "revision": revision},
        ).scalars())

    @staticmethod
    def _new_generation() -> str:
        return secrets.token_hex(3)

    def health(self) -> dict:
        try:
            self._ensure_registry()
            with self._begin() as conn:
                rows = conn.execute(sa.text(f"SELECT name, generation FROM {REGISTRY_TABLE}")).all()
                indexes = {}
                for row in rows:
                    if not row.name.startswith(self.index_prefix):
                        continue
                    layout_docs = f"search_{row.name}_{row.generation}_docs"
                    indexes[row.name[len(self.index_prefix):]] = conn.execute(
                        sa.text(f'SELECT count(*) FROM "{layout_docs}"')).scalar_one()
            return {"ok": True, "backend": self.kind, "indexes": indexes, **self._health_details()}
        except Exception as exc:  # noqa: BLE001 (health must never raise)
            return {"ok": False, "backend": self.kind, "error": str(exc)}

    def ping(self) -> bool:
        """One statement on the registry (``health`` counts every index: a scan of each at 100,000 documents)."""
        try:
            self._ensure_registry()
            with self._begin() as conn:
                conn.execute(sa.text(f"SELECT 1 FROM {REGISTRY_TABLE} LIMIT 1")).all()
            return True
        except Exception:  # noqa: BLE001 (a probe reports, never raises)
            return False

    def close(self) -> None:
        self.engine.dispose()


def is_connection_error(exc: sa.exc.DBAPIError) -> bool:
    """True when the database is unreachable (as opposed to a bad statement)."""
    message = str(getattr(exc, "orig", exc)).lower()
    return bool(getattr(exc, "connection_invalidated", False)) or any(
        marker in message for marker in ("connect", "server closed", "unable to open database")
    )

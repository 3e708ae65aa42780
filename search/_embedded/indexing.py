"""Writes to the embedded indexes: creating, rebuilding (a new generation swapped in) and dropping
an index, and upserting and deleting documents."""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..base import IndexSpec, check_documents
from ..text import latin_words
from .layout import Layout
from .sql import SqlParams
from .storage import REGISTRY_TABLE, EmbeddedStorage

BATCH_SIZE = 500
BULK_WRITE = 1000  # upserts at least this large refresh the planner statistics


class EmbeddedIndexing(EmbeddedStorage):
    """Index management and document writes of ``EmbeddedBackend``."""

    def ensure_index(self, spec: IndexSpec) -> None:
        """Create the tables for `spec`; if the stored spec differs structurally, rebuild the
        index from its own stored documents (a new generation swapped in)."""
        self._ensure_registry()
        physical = self.physical_name(spec.name)
        with self._begin() as conn:
            current = self._layout_or_none(conn, spec.name)
            if current is None:
                layout = Layout(physical, self._new_generation(), spec)
                self._create_tables(conn, layout)
                conn.execute(
                    sa.text(f"INSERT INTO {REGISTRY_TABLE} (name, generation, spec, updated_at)"
                            " VALUES (:name, :gen, :spec, :now)"),
                    {"name": physical, "gen": layout.generation, "spec": _spec_json(spec), "now": _now()},
                )
                return
            if current.spec == spec:
                return
            if _same_structure(current.spec, spec):
                conn.execute(
                    sa.text(f"UPDATE {REGISTRY_TABLE} SET spec = :spec, updated_at = :now WHERE name = :name"),
                    {"spec": _spec_json(spec), "now": _now(), "name": physical},
                )
                return
        # Structure changed (fields, sortables...): re-derive everything from stored JSON.
        self.reindex(spec, self._iter_stored_docs(current))

    def _iter_stored_docs(self, layout: Layout) -> Iterator[dict]:
        last = 0
        while True:
            with self._begin() as conn:
                rows = conn.execute(
                    sa.text(f'SELECT seq, doc FROM "{layout.docs}" WHERE seq > :last ORDER BY seq LIMIT 2000'),
                    {"last": last},
                ).all()
            if not rows:
                return
            for row in rows:
                yield json.loads(row.doc)
            last = rows[-1].seq

    def drop_index(self, name: str) -> None:
        self._ensure_registry()
        with self._begin() as conn:
            layout = self._layout_or_none(conn, name)
            if layout is None:
                return
            self._drop_tables(conn, layout)
            conn.execute(sa.text(f"DELETE FROM {REGISTRY_TABLE} WHERE name = :name"), {"name": layout.physical})

    def reindex(self, spec: IndexSpec, docs: Iterable[Mapping[str, Any]]) -> int:
        """Build a new generation from `docs`, then flip the registry pointer in one transaction
        and drop the previous generation. Readers keep using the old one until the flip."""
        self._ensure_registry()
        physical = self.physical_name(spec.name)
        layout = Layout(physical, self._new_generation(), spec)
        with self._begin() as conn:
            self._create_tables(conn, layout)
        written = 0
        try:
            batch: list = []
            for doc in docs:
                batch.append(doc)
                if len(batch) >= BATCH_SIZE:
                    written += self._write_batch(layout, batch)
                    batch = []
            if batch:
                written += self._write_batch(layout, batch)
            self._refresh_statistics(layout)
            with self._begin() as conn:
                self._forget_changes(conn, layout)
                old = self._layout_or_none(conn, spec.name)
                if old is None:
                    conn.execute(
                        sa.text(f"INSERT INTO {REGISTRY_TABLE} (name, generation, spec, updated_at)"
                                " VALUES (:name, :gen, :spec, :now)"),
                        {"name": physical, "gen": layout.generation, "spec": _spec_json(spec), "now": _now()},
                    )
                else:
                    conn.execute(
                        sa.text(f"UPDATE {REGISTRY_TABLE} SET generation = :gen, spec = :spec, updated_at = :now"
                                " WHERE name = :name"),
                        {"name": physical, "gen": layout.generation, "spec": _spec_json(spec), "now": _now()},
                    )
        except BaseException:
            with self._begin() as conn:
                self._drop_tables(conn, layout)
            raise
        if old is not None:
            with self._begin() as conn:
                self._drop_tables(conn, old)
        return written

    # ------------------------------------------------------------------ writes

    def upsert(self, name: str, docs: Iterable[Mapping[str, Any]]) -> int:
        """Insert or replace documents; committed (hence confirmed) when this returns."""
        self._ensure_registry()
        with self._begin() as conn:
            layout = self._layout(conn, name)
        written, batch = 0, []
        for doc in docs:
            batch.append(doc)
            if len(batch) >= BATCH_SIZE:
                written += self._write_batch(layout, batch)
                batch = []
        if batch:
            written += self._write_batch(layout, batch)
        if written >= BULK_WRITE:
            self._refresh_statistics(layout)
        return written

    def _write_batch(self, layout: Layout, docs: list) -> int:
        pk = layout.spec.primary_key
        by_id = {doc[pk]: doc for doc in check_documents(layout.spec, docs)}  # last one wins
        ids = list(by_id)
        with self._begin() as conn:
            self._lock_for_write(conn, layout)
            params = SqlParams()
            existing = conn.execute(
                sa.text(f'SELECT id, seq, search_text FROM "{layout.docs}" WHERE id IN ({params.add_list(ids)})'),
                params.values,
            ).all()
            old_seq = {row.id: row.seq for row in existing}
            if existing:
                self._delete_rows(conn, layout, [(row.seq, row.search_text) for row in existing])
            rows = []
            for doc_id, doc in by_id.items():
                row = layout.doc_row(doc)
                row["seq"] = old_seq.get(doc_id)  # keep the position of replaced documents
                rows.append(row)
            columns = ["id", "doc", "search_text", *layout.rank_columns,
                       *[c for pair in layout.sort_columns.values() for c in pair]]
            with_seq = [r for r in rows if r["seq"] is not None]
            without_seq = [r for r in rows if r["seq"] is None]
            for subset, cols in ((with_seq, ["seq", *columns]), (without_seq, columns)):
                if subset:
                    conn.execute(
                        sa.text(f'INSERT INTO "{layout.docs}" ({", ".join(cols)})'
                                f' VALUES ({", ".join(":" + c for c in cols)})'),
                        subset,
                    )
            params = SqlParams()
            seqs = dict(conn.execute(
                sa.text(f'SELECT id, seq FROM "{layout.docs}" WHERE id IN ({params.add_list(ids)})'),
                params.values,
            ).all())
            value_rows = []
            words: set[str] = set()
            for row in rows:
                row["seq"] = seqs[row["id"]]
                value_rows.extend(layout.value_rows(row["seq"], by_id[row["id"]]))
                words |= latin_words(row["search_text"])
            if value_rows:
                conn.execute(
                    sa.text(f'INSERT INTO "{layout.fields}" (seq, field, str_value, num_value)'
                            " VALUES (:seq, :field, :str_value, :num_value)"),
                    value_rows,
                )
            self._after_docs_inserted(conn, layout, rows)
            if words:
                self._insert_vocab(conn, layout, words)
            self._bump_revision(conn, layout, [*old_seq.values(), *seqs.values()])
        return len(by_id)

    def _delete_rows(self, conn: Connection, layout: Layout, rows: list[tuple[int, str]]) -> None:
        self._before_docs_deleted(conn, layout, rows)
        params = SqlParams()
        seq_list = params.add_list(seq for seq, _ in rows)
        conn.execute(sa.text(f'DELETE FROM "{layout.fields}" WHERE seq IN ({seq_list})'), params.values)
        conn.execute(sa.text(f'DELETE FROM "{layout.docs}" WHERE seq IN ({seq_list})'), params.values)

    def delete(self, name: str, ids: Iterable[str]) -> int:
        """Delete documents by id; committed when this returns. Returns how many existed."""
        self._ensure_registry()
        ids = [str(i) for i in ids]
        deleted, touched = 0, []
        with self._begin() as conn:
            layout = self._layout(conn, name)
            self._lock_for_write(conn, layout)
            for start in range(0, len(ids), BATCH_SIZE):
                params = SqlParams()
                chunk = params.add_list(ids[start:start + BATCH_SIZE])
                rows = conn.execute(
                    sa.text(f'SELECT seq, search_text FROM "{layout.docs}" WHERE id IN ({chunk})'), params.values
                ).all()
                if rows:
                    self._delete_rows(conn, layout, [(r.seq, r.search_text) for r in rows])
                    touched += [r.seq for r in rows]
                deleted += len(rows)
            if deleted:
                self._bump_revision(conn, layout, touched)
        return deleted


def _same_structure(old: IndexSpec, new: IndexSpec) -> bool:
    keys = ("primary_key", "searchable", "filterable", "sortable", "facets", "suggest_fields")
    return all(getattr(old, k) == getattr(new, k) for k in keys)


def _spec_json(spec: IndexSpec) -> str:
    return json.dumps(spec.to_dict(), ensure_ascii=False, sort_keys=True)


def _now() -> str:
    return datetime.now(UTC).isoformat()

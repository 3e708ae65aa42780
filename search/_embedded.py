"""Shared machinery of the embedded (SQL) backends.

Storage, per logical index and *generation* (a reindex builds a new generation and flips a
pointer, so readers never see a half-built index):

    search_indexes                   registry: physical name -> generation, spec (JSON)
    search_<index>_<gen>_docs        one row per document: id, JSON, normalised text columns
    search_<index>_<gen>_fields      (seq, field, str_value, num_value) per filter/facet value
    search_<index>_<gen>_vocab       latin words (for typo correction)
    (+ dialect extras, e.g. the SQLite FTS5 trigram table search_<index>_<gen>_fts)

Matching: every query term group must occur as a substring of the normalised text of the
document (NFKC + casefold); the dialect decides how that is accelerated.
"""
from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .base import (
    FilterValue,
    Hit,
    IndexSpec,
    SearchBackend,
    SearchError,
    SearchQuery,
    SearchResult,
    SearchUnavailable,
    check_documents,
    check_query_against_spec,
    facet_key,
)
from .text import (
    CJK_RUN_RE,
    MIN_TRIGRAM_LEN,
    TermGroup,
    edit1_variants,
    flatten_text,
    highlight_text,
    latin_words,
    normalize,
    parse_query,
)

REGISTRY_TABLE = "search_indexes"
MAX_RANK_FIELDS = 4  # searchable fields copied into their own column for scoring
MAX_FACET_VALUES = 100
BATCH_SIZE = 500
BULK_WRITE = 1000  # upserts at least this large refresh the planner statistics
CHARS_PER_WORD = 3  # converts SearchQuery.crop_length (words) into characters


def like_pattern(term: str, prefix_only: bool = False) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%" if prefix_only else f"%{escaped}%"


class SqlParams:
    """Collects bound parameters while SQL text is assembled."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> str:
        key = f"p{len(self.values)}"
        self.values[key] = value
        return f":{key}"

    def add_list(self, values: Iterable[Any]) -> str:
        return ", ".join(self.add(v) for v in values)


class Layout:
    """Physical table names and derived columns of one generation of an index."""

    def __init__(self, physical: str, generation: str, spec: IndexSpec) -> None:
        self.physical = physical
        self.generation = generation
        self.spec = spec
        base = f"search_{physical}_{generation}"
        if len(base) + len("_fields") > 63:  # PostgreSQL identifier limit
            raise SearchError(f"index name too long: {physical!r}")
        self.docs = f"{base}_docs"
        self.fields = f"{base}_fields"
        self.vocab = f"{base}_vocab"
        self.fts = f"{base}_fts"
        self.base = base
        ordered = list(dict.fromkeys([*spec.suggest_fields, *spec.searchable]))
        self.rank_fields = ordered[:MAX_RANK_FIELDS]
        self.rank_columns = [f"r{i}" for i in range(len(self.rank_fields))]
        self.sort_columns = {name: (f"s{i}_num", f"s{i}_str") for i, name in enumerate(spec.sortable)}
        self.value_fields = list(dict.fromkeys([*spec.filterable, *spec.facets]))

    def tables(self) -> list[str]:
        return [self.docs, self.fields, self.vocab]

    # ---- document -> rows

    def doc_row(self, doc: dict) -> dict:
        spec = self.spec
        row: dict[str, Any] = {
            "id": doc[spec.primary_key],
            "doc": json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
            "search_text": "\n".join(normalize(flatten_text(doc.get(f))) for f in spec.searchable),
        }
        for column, name in zip(self.rank_columns, self.rank_fields):
            row[column] = normalize(flatten_text(doc.get(name)))
        for name, (num_col, str_col) in self.sort_columns.items():
            value = doc.get(name)
            if isinstance(value, list):
                value = value[0] if value else None
            row[num_col] = row[str_col] = None
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                row[num_col] = float(value)
            elif value is not None:
                row[str_col] = normalize(facet_key(value))
        return row

    def value_rows(self, seq: int, doc: dict) -> list[dict]:
        rows = []
        for name in self.value_fields:
            value = doc.get(name)
            values = value if isinstance(value, list) else [value]
            seen = set()
            for item in values:
                if item is None:
                    continue
                key = facet_key(item)
                if key in seen:
                    continue
                seen.add(key)
                num = float(item) if isinstance(item, (int, float)) and not isinstance(item, bool) else None
                rows.append({"seq": seq, "field": name, "str_value": key, "num_value": num})
        return rows


class EmbeddedBackend(SearchBackend):
    """Base of the SQLite and PostgreSQL backends (see module docstring for the storage)."""

    kind = "embedded"

    def __init__(self, engine: Engine | str, index_prefix: str = "") -> None:
        self.engine = sa.create_engine(engine) if isinstance(engine, str) else engine
        if index_prefix and not all(c.isalnum() or c == "_" for c in index_prefix):
            raise SearchError(f"invalid index_prefix {index_prefix!r}")
        self.index_prefix = index_prefix.lower()
        self._registry_ready = False

    # ------------------------------------------------------------------ dialect hooks

    def _prepare(self, conn: Connection) -> None:
        """One-time setup (extensions...)."""

    def _create_tables(self, conn: Connection, layout: Layout) -> None:
        raise NotImplementedError

    def _drop_tables(self, conn: Connection, layout: Layout) -> None:
        for table in layout.tables():
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table}"'))

    def _match_sql(self, layout: Layout, groups: list[TermGroup], params: SqlParams) -> str:
        """SQL condition on alias `d` true when every group matches."""
        raise NotImplementedError

    def _insert_vocab(self, conn: Connection, layout: Layout, words: set[str]) -> None:
        raise NotImplementedError

    def _after_docs_inserted(self, conn: Connection, layout: Layout, rows: list[dict]) -> None:
        """rows carry seq and search_text (SQLite feeds its FTS table)."""

    def _before_docs_deleted(self, conn: Connection, layout: Layout, rows: list[tuple[int, str]]) -> None:
        """rows are (seq, search_text) of documents about to be deleted."""

    def _refresh_statistics(self, layout: Layout) -> None:
        """Update planner statistics after bulk writes (bad plans otherwise right after a load)."""
        with self._begin() as conn:
            for table in (layout.docs, layout.fields):
                conn.execute(sa.text(f'ANALYZE "{table}"'))

    # ------------------------------------------------------------------ helpers

    def physical_name(self, name: str) -> str:
        return f"{self.index_prefix}{name}"

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.OperationalError as exc:
            if _is_connection_error(exc):
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

    @staticmethod
    def _new_generation() -> str:
        return secrets.token_hex(3)

    # ------------------------------------------------------------------ index management

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
        deleted = 0
        with self._begin() as conn:
            layout = self._layout(conn, name)
            for start in range(0, len(ids), BATCH_SIZE):
                params = SqlParams()
                chunk = params.add_list(ids[start:start + BATCH_SIZE])
                rows = conn.execute(
                    sa.text(f'SELECT seq, search_text FROM "{layout.docs}" WHERE id IN ({chunk})'), params.values
                ).all()
                if rows:
                    self._delete_rows(conn, layout, [(r.seq, r.search_text) for r in rows])
                deleted += len(rows)
        return deleted

    # ------------------------------------------------------------------ reads

    def count(self, name: str) -> int:
        self._ensure_registry()
        with self._begin() as conn:
            layout = self._layout(conn, name)
            return conn.execute(sa.text(f'SELECT count(*) FROM "{layout.docs}"')).scalar_one()

    def all_ids(self, name: str) -> set[str]:
        self._ensure_registry()
        with self._begin() as conn:
            layout = self._layout(conn, name)
            return set(conn.execute(sa.text(f'SELECT id FROM "{layout.docs}"')).scalars())

    def search(self, name: str, query: SearchQuery) -> SearchResult:
        self._ensure_registry()
        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                with self._begin() as conn:
                    layout = self._layout(conn, name)
                    check_query_against_spec(layout.spec, query)
                    groups = self._expand_typos(conn, layout, parse_query(query.q, layout.spec.synonym_groups()))
                    result = self._run(conn, layout, query, groups)
                    if result.total == 0 and query.q and _has_long_cjk_run(query.q):
                        # Recall fallback: "核酸检测" also finds "核酸快速检测" via jieba words.
                        groups = parse_query(query.q, layout.spec.synonym_groups(), segment_cjk=True)
                        groups = self._expand_typos(conn, layout, groups)
                        result = self._run(conn, layout, query, groups)
                break
            except (sa.exc.ProgrammingError, sa.exc.OperationalError) as exc:
                # A concurrent reindex may drop the generation we just looked up: retry once.
                if attempt == 2 or _is_connection_error(exc):
                    raise
        result.took_ms = round((time.perf_counter() - started) * 1000, 2)
        return result

    def _expand_typos(self, conn: Connection, layout: Layout, groups: list[TermGroup]) -> list[TermGroup]:
        """Add vocabulary words one edit away from long latin terms (best-effort typo tolerance)."""
        for group in groups:
            if not group.typo_source:
                continue
            variants = sorted(edit1_variants(group.typo_source))
            if not variants:
                continue
            params = SqlParams()
            found = conn.execute(
                sa.text(f'SELECT word FROM "{layout.vocab}" WHERE word IN ({params.add_list(variants)})'),
                params.values,
            ).scalars().all()
            group.typo_variants = sorted(found)
        return groups

    def _where(self, layout: Layout, groups: list[TermGroup], filters: dict, params: SqlParams) -> str:
        clauses = []
        if groups:
            clauses.append(self._match_sql(layout, groups, params))
        for name, accepted in filters.items():
            if isinstance(accepted, dict):
                ops = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
                bounds = " AND ".join(f"num_value {ops[op]} {params.add(float(v))}" for op, v in accepted.items())
                condition = bounds
            elif not accepted:
                clauses.append("1 = 0")
                continue
            else:
                condition = f"str_value IN ({params.add_list(facet_key(v) for v in accepted)})"
            clauses.append(
                f'd.seq IN (SELECT seq FROM "{layout.fields}" WHERE field = {params.add(name)} AND {condition})'
            )
        return " AND ".join(clauses) or "1 = 1"

    def _score_sql(self, layout: Layout, groups: list[TermGroup], params: SqlParams) -> str:
        """Relevance: per group, the weight of the most important rank column holding an exact
        alternative (typo-only matches score 0, so exact hits come first)."""
        weights = range(len(layout.rank_columns) + 1, 1, -1)
        parts = []
        for group in groups:
            whens = []
            for column, weight in zip(layout.rank_columns, weights):
                cond = " OR ".join(f"d.{column} LIKE {params.add(like_pattern(a))} ESCAPE '\\'"
                                   for a in group.alternatives)
                whens.append(f"WHEN {cond} THEN {weight}")
            parts.append(f"(CASE {' '.join(whens)} ELSE 1 END)")
        return " + ".join(parts) or "0"

    def _order_sql(self, layout: Layout, query: SearchQuery, scored: bool) -> str:
        order = []
        for name, descending in query.parsed_sort():
            direction = "DESC" if descending else "ASC"
            num_col, str_col = layout.sort_columns[name]
            order += [f"d.{num_col} {direction} NULLS LAST", f"d.{str_col} {direction} NULLS LAST"]
        if scored:
            order.append("score DESC")
        order.append("d.seq ASC")
        return ", ".join(order)

    def _run(self, conn: Connection, layout: Layout, query: SearchQuery, groups: list[TermGroup]) -> SearchResult:
        filters = query.normalized_filters()
        params = SqlParams()
        where = self._where(layout, groups, filters, params)
        total = conn.execute(sa.text(f'SELECT count(*) FROM "{layout.docs}" d WHERE {where}'), params.values).scalar_one()

        hits: list[Hit] = []
        if total > query.offset:
            page_params = SqlParams()
            page_where = self._where(layout, groups, filters, page_params)
            score = self._score_sql(layout, groups, page_params) if groups else "0"
            limit, offset = page_params.add(query.per_page), page_params.add(query.offset)
            rows = conn.execute(
                sa.text(f'SELECT d.id, d.doc, {score} AS score FROM "{layout.docs}" d WHERE {page_where}'
                        f" ORDER BY {self._order_sql(layout, query, bool(groups))} LIMIT {limit} OFFSET {offset}"),
                page_params.values,
            ).all()
            needles = [a for g in groups for a in g.all_alternatives]
            for row in rows:
                doc = json.loads(row.doc)
                highlights = (
                    highlight_document(doc, layout.spec.searchable, needles, query.crop_length * CHARS_PER_WORD)
                    if query.highlight and needles else {}
                )
                hits.append(Hit(id=row.id, document=doc, highlights=highlights))

        facets: dict[str, dict[str, int]] = {name: {} for name in query.facets or ()}
        if query.facets and total:
            facet_params = SqlParams()
            facet_where = self._where(layout, groups, filters, facet_params)
            facet_list = facet_params.add_list(query.facets)
            rows = conn.execute(
                sa.text(f'SELECT f.field, f.str_value, count(*) AS n FROM "{layout.fields}" f'
                        f" WHERE f.field IN ({facet_list})"
                        f' AND f.seq IN (SELECT d.seq FROM "{layout.docs}" d WHERE {facet_where})'
                        " GROUP BY f.field, f.str_value"),
                facet_params.values,
            ).all()
            for row in sorted(rows, key=lambda r: (-r.n, r.str_value)):
                if len(facets[row.field]) < MAX_FACET_VALUES:
                    facets[row.field][row.str_value] = row.n
        return SearchResult(hits=hits, total=total, facets=facets, page=query.page, per_page=query.per_page,
                            took_ms=0.0, backend=self.kind)

    def suggest(self, name: str, prefix: str, limit: int = 8,
                filters: Mapping[str, FilterValue] | None = None) -> list[str]:
        """Titles containing `prefix` (titles starting with it first, then shorter ones)."""
        self._ensure_registry()
        typed = normalize(prefix).strip()
        if not typed or limit <= 0:
            return []
        with self._begin() as conn:
            layout = self._layout(conn, name)
            query = SearchQuery(filters=filters or {})
            check_query_against_spec(layout.spec, query)
            params = SqlParams()
            where = self._where(layout, [TermGroup([typed])], query.normalized_filters(), params)
            title_columns = [c for c, f in zip(layout.rank_columns, layout.rank_fields)
                             if f in layout.spec.suggest_fields]
            pattern = params.add(like_pattern(typed))
            if title_columns:
                where += " AND (" + " OR ".join(f"d.{c} LIKE {pattern} ESCAPE '\\'" for c in title_columns) + ")"
            rows = conn.execute(
                sa.text(f'SELECT d.doc FROM "{layout.docs}" d WHERE {where} ORDER BY d.seq LIMIT {limit * 25}'),
                params.values,
            ).scalars().all()
        return rank_suggestions((json.loads(doc) for doc in rows), layout.spec.suggest_fields, typed, limit)

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

    def _health_details(self) -> dict:
        return {}

    def close(self) -> None:
        self.engine.dispose()


# ---------------------------------------------------------------------- module helpers


def highlight_document(doc: dict, fields: Sequence[str], needles: Sequence[str], crop_chars: int) -> dict[str, str]:
    """{field: safe HTML} for the searchable fields where a needle occurs (list elements that
    match are joined with ", ")."""
    out = {}
    for name in fields:
        value = doc.get(name)
        if value is None:
            continue
        items = value if isinstance(value, list) else [value]
        marked = [m for m in (highlight_text(str(v), needles, crop_chars) for v in items) if m]
        if marked:
            out[name] = ", ".join(marked)
    return out


def rank_suggestions(docs: Iterable[dict], fields: Sequence[str], typed: str, limit: int) -> list[str]:
    """Distinct title values containing `typed`: prefix matches first, then by length."""
    candidates: dict[str, tuple] = {}
    for doc in docs:
        for name in fields:
            value = doc.get(name)
            for title in value if isinstance(value, list) else [value]:
                if not isinstance(title, str) or not title.strip():
                    continue
                normalized = normalize(title)
                position = normalized.find(typed)
                if position < 0:
                    continue
                key = (0 if position == 0 else 1, len(title), title)
                if title not in candidates or key < candidates[title]:
                    candidates[title] = key
    return [title for title, _ in sorted(candidates.items(), key=lambda item: item[1])][:limit]


def _has_long_cjk_run(q: str) -> bool:
    return any(len(run) >= MIN_TRIGRAM_LEN for run in CJK_RUN_RE.findall(q))


def _same_structure(old: IndexSpec, new: IndexSpec) -> bool:
    keys = ("primary_key", "searchable", "filterable", "sortable", "facets", "suggest_fields")
    return all(getattr(old, k) == getattr(new, k) for k in keys)


def _spec_json(spec: IndexSpec) -> str:
    return json.dumps(spec.to_dict(), ensure_ascii=False, sort_keys=True)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _is_connection_error(exc: sa.exc.DBAPIError) -> bool:
    message = str(getattr(exc, "orig", exc)).lower()
    return bool(getattr(exc, "connection_invalidated", False)) or any(
        marker in message for marker in ("connect", "server closed", "unable to open database")
    )

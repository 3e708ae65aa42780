"""Reads of the embedded indexes: counts, searches (the SQL for matching, filters, relevance,
order and facets, with typo and word-segmentation fallbacks) and title suggestions."""
from __future__ import annotations

import json
import time
from collections.abc import Mapping

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..base import FilterValue, Hit, SearchQuery, SearchResult, check_query_against_spec, facet_key
from ..text import CJK_RUN_RE, MIN_TRIGRAM_LEN, TermGroup, edit1_variants, normalize, parse_query
from .layout import Layout
from .results import highlight_document, rank_suggestions
from .sql import SqlParams, like_pattern
from .storage import EmbeddedStorage, is_connection_error

MAX_FACET_VALUES = 100
CHARS_PER_WORD = 3  # converts SearchQuery.crop_length (words) into characters


class EmbeddedQueries(EmbeddedStorage):
    """Counting, searching and suggesting of ``EmbeddedBackend``."""

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
                if attempt == 2 or is_connection_error(exc):
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
            # Hundreds of candidate words: sent through the driver, as compiling that many bound parameters costs
            # more than the lookup itself.
            mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
            found = conn.exec_driver_sql(
                f'SELECT word FROM "{layout.vocab}" WHERE word IN ({", ".join([mark] * len(variants))})',
                tuple(variants),
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
        if self.column_cache:
            return self._run_columns(conn, layout, query, groups)
        return self._run_sql(conn, layout, query, groups)

    def _run_columns(self, conn: Connection, layout: Layout, query: SearchQuery,
                     groups: list[TermGroup]) -> SearchResult:
        """SQL finds and scores the text matches; the in-memory columns filter, count facets and order
        them, and SQL then reads the documents of the page only."""
        store = self._columns_for(conn, layout)
        base = None
        if groups:
            positions, known = store.positions_of(self._match_seqs(conn, layout, groups))
            base = np.zeros(store.size, dtype=bool)
            base[positions[known]] = True
        mask = store.filter_mask(query.normalized_filters(), base)
        total = int(np.count_nonzero(mask))
        hits: list[Hit] = []
        if total > query.offset:
            page = store.page(mask, query.parsed_sort(), [g.alternatives for g in groups], query.offset,
                              query.per_page)
            page_seqs = [int(s) for s in store.seqs[page]]
            params = SqlParams()
            rows = {row.seq: row for row in conn.execute(
                sa.text(f'SELECT seq, id, doc FROM "{layout.docs}" WHERE seq IN ({params.add_list(page_seqs)})'),
                params.values,
            )}
            needles = [a for g in groups for a in g.all_alternatives]
            for seq in page_seqs:
                row = rows.get(seq)
                if row is None:  # deleted since the columns were read
                    continue
                hits.append(self._hit(layout, query, row, needles))
        facets: dict[str, dict[str, int]] = {name: {} for name in query.facets or ()}
        if query.facets and total:
            facets.update(store.facet_counts(query.facets, mask, MAX_FACET_VALUES))
        return SearchResult(hits=hits, total=total, facets=facets, page=query.page, per_page=query.per_page,
                            took_ms=0.0, backend=self.kind)

    def _match_seqs(self, conn: Connection, layout: Layout, groups: list[TermGroup]) -> list[int]:
        """Seqs of the documents whose text matches every group (dialects may answer from their text index
        alone, without reading the documents)."""
        params = SqlParams()
        return list(conn.execute(
            sa.text(f'SELECT d.seq FROM "{layout.docs}" d WHERE {self._match_sql(layout, groups, params, conn)}'),
            params.values,
        ).scalars())

    @staticmethod
    def _hit(layout: Layout, query: SearchQuery, row, needles: list[str]) -> Hit:
        doc = json.loads(row.doc)
        highlights = (
            highlight_document(doc, layout.spec.searchable, needles, query.crop_length * CHARS_PER_WORD)
            if query.highlight and needles else {}
        )
        return Hit(id=row.id, document=doc, highlights=highlights)

    def _run_sql(self, conn: Connection, layout: Layout, query: SearchQuery, groups: list[TermGroup]) -> SearchResult:
        """The whole search in SQL (the implementation before the in-memory columns, kept for comparison:
        ``column_cache=False``)."""
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
            hits = [self._hit(layout, query, row, needles) for row in rows]

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
            if self.column_cache and len(typed) >= 2:  # one character: the SQL scan stops at the first titles
                rows = self._suggest_columns(conn, layout, typed, query.normalized_filters(), limit * 25)
                return rank_suggestions((json.loads(doc) for doc in rows), layout.spec.suggest_fields, typed, limit)
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


    def _suggest_columns(self, conn: Connection, layout: Layout, typed: str, filters: dict, wanted: int) -> list[str]:
        """The first ``wanted`` documents (by seq) holding ``typed`` in a title, through the columns."""
        store = self._columns_for(conn, layout)
        positions, known = store.positions_of(self._match_seqs(conn, layout, [TermGroup([typed])]))
        base = np.zeros(store.size, dtype=bool)
        base[positions[known]] = True
        candidates = np.flatnonzero(store.filter_mask(filters, base))
        titles = [store.rank_texts[i] for i, f in enumerate(layout.rank_fields) if f in layout.spec.suggest_fields]
        chosen = []
        for position in candidates:
            if not titles or any(typed in texts[position] for texts in titles):
                chosen.append(int(store.seqs[position]))
                if len(chosen) >= wanted:
                    break
        if not chosen:
            return []
        params = SqlParams()
        docs = dict(conn.execute(
            sa.text(f'SELECT seq, doc FROM "{layout.docs}" WHERE seq IN ({params.add_list(chosen)})'), params.values,
        ).all())
        return [docs[seq] for seq in chosen if seq in docs]


def _has_long_cjk_run(q: str) -> bool:
    return any(len(run) >= MIN_TRIGRAM_LEN for run in CJK_RUN_RE.findall(q))

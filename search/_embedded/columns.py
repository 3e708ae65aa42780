"""In-memory columns of one index generation: filter values, facet values and sort keys as numpy arrays.

The SQL side of a search only finds the documents whose text matches (and scores them); filters, facet
counts, the total and the order of the page are then computed here, over arrays indexed by the position of
a document (its rank by ``seq``). At 100,000 documents this costs a few milliseconds, where the same work
in SQL (sub-selects of the value table, ``GROUP BY`` over every match, sorting every match before the
``LIMIT``) took most of a second.

Each process keeps one ``ColumnStore`` per index, tagged with the generation's revision (a counter every
write bumps in the same transaction, see ``storage.REVISIONS_TABLE``); a search that finds a newer revision
loads the columns again, so answers never lag behind a committed write.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..base import facet_key
from .layout import Layout

_RANGE_OPS = {"gt": np.greater, "gte": np.greater_equal, "lt": np.less, "lte": np.less_equal}


class FieldPostings:
    """The values of one filterable field: for each distinct string value (by code), the positions of the
    documents holding it, grouped by code (CSR layout); numbers kept per posting for range filters."""

    def __init__(self, positions: np.ndarray, codes: np.ndarray, numbers: np.ndarray, values: list[str]) -> None:
        order = np.argsort(codes, kind="stable")
        self.positions = positions[order]
        self.codes = codes[order]
        self.numbers = numbers[order]
        self.values = values
        self.code_of = {value: code for code, value in enumerate(values)}
        self.starts = np.searchsorted(self.codes, np.arange(len(values) + 1))

    def mark(self, accepted, out: np.ndarray) -> None:
        """Set ``out[p]`` for every document whose value is accepted (a list of values or a range dict)."""
        if isinstance(accepted, Mapping):
            chosen = np.ones(len(self.numbers), dtype=bool)
            for op, bound in accepted.items():
                chosen &= _RANGE_OPS[op](self.numbers, float(bound))  # NaN (not a number) compares False
            out[self.positions[chosen]] = True
            return
        for value in accepted:
            code = self.code_of.get(facet_key(value))
            if code is not None:
                out[self.positions[self.starts[code]:self.starts[code + 1]]] = True

    def counts(self, mask: np.ndarray) -> dict[str, int]:
        """{value: number of documents in ``mask`` holding it}, for the values held at least once."""
        counted = np.bincount(self.codes[mask[self.positions]], minlength=len(self.values))
        return {self.values[code]: int(counted[code]) for code in np.flatnonzero(counted)}


class SortKey:
    """One sortable field per position: its number (NaN if none) and the rank of its string value (-1 if none)
    among ``ranked``, the sorted distinct strings."""

    def __init__(self, numbers: np.ndarray, ranks: np.ndarray, ranked: list[str],
                 rank_of: dict[str, int] | None = None) -> None:
        self.numbers, self.ranks, self.ranked = numbers, ranks, ranked
        self.rank_of = rank_of if rank_of is not None else {s: n for n, s in enumerate(ranked)}

    @classmethod
    def build(cls, numbers: np.ndarray, strings: Sequence[str | None]) -> SortKey:
        ranked = sorted({s for s in strings if s is not None})
        rank_of = {s: n for n, s in enumerate(ranked)}
        ranks = np.fromiter((rank_of[s] if s is not None else -1 for s in strings), dtype=np.int64,
                            count=len(strings))
        return cls(numbers, ranks, ranked, rank_of)


class ColumnStore:
    """Filter, facet and sort columns of one index generation at one revision.

    ``seqs`` holds the documents' seqs in increasing order; a document's *position* is its index there.
    """

    def __init__(self, docs_table: str, revision: int, seqs: np.ndarray, fields: dict[str, FieldPostings],
                 sort_keys: dict[str, SortKey], rank_texts: list[np.ndarray]) -> None:
        self.docs_table = docs_table
        self.rank_texts = rank_texts  # per rank column (most important first): normalised text per position
        self.revision = revision
        self.seqs = seqs
        self.size = len(seqs)
        self.fields = fields
        self.sort_keys = sort_keys
        self._orders: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    # ---- loading

    @classmethod
    def load(cls, conn: Connection, layout: Layout, revision: int) -> ColumnStore:
        """Read the columns of ``layout`` from the database (one pass over the docs and value tables)."""
        seqs, sort_rows, rank_texts = _read_doc_rows(conn, layout, None)
        sort_keys = {name: SortKey.build(numbers, strings) for name, (numbers, strings) in sort_rows.items()}
        fields = {}
        for name in layout.value_fields:
            row_seqs, values, numbers = _read_values(conn, layout, name, None)
            codes, table = _encode(values, [], {})
            positions, known = _positions(seqs, row_seqs)
            fields[name] = FieldPostings(positions[known], codes[known], numbers[known], table)
        return cls(layout.docs, revision, seqs, fields, sort_keys, rank_texts)

    def updated(self, conn: Connection, layout: Layout, changed: Sequence[int], revision: int) -> ColumnStore:
        """A copy with the documents of the ``changed`` seqs read again (gone ones removed, new ones added)."""
        changed_arr = np.unique(np.asarray(changed, dtype=np.int64))
        fresh_seqs, sort_rows, fresh_texts = _read_doc_rows(conn, layout, changed_arr)
        kept = ~np.isin(self.seqs, changed_arr)
        seqs = np.concatenate([self.seqs[kept], fresh_seqs])
        order = np.argsort(seqs, kind="stable")
        seqs = seqs[order]
        sort_keys = {}
        for name, key in self.sort_keys.items():
            numbers, strings = sort_rows[name]
            old_ranks = key.ranks[kept]
            unseen = {s for s in strings if s is not None} - key.rank_of.keys()
            if unseen:  # new strings shift the ranks after them: rank everything again
                ranked = sorted([*key.ranked, *unseen])
                rank_of = {s: n for n, s in enumerate(ranked)}
                remap = np.fromiter((rank_of[s] for s in key.ranked), dtype=np.int64, count=len(key.ranked))
                old_ranks = np.where(old_ranks >= 0, remap[np.maximum(old_ranks, 0)] if len(remap) else -1, -1)
            else:
                ranked, rank_of = key.ranked, key.rank_of
            new_ranks = np.fromiter((rank_of[s] if s is not None else -1 for s in strings), dtype=np.int64,
                                    count=len(strings))
            sort_keys[name] = SortKey(np.concatenate([key.numbers[kept], numbers])[order],
                                      np.concatenate([old_ranks, new_ranks])[order], ranked, rank_of)
        fields = {}
        for name, postings in self.fields.items():
            row_seqs, values, numbers = _read_values(conn, layout, name, changed_arr)
            old_seqs = self.seqs[postings.positions]
            keep = ~np.isin(old_seqs, changed_arr)
            table = list(postings.values)
            codes, table = _encode(values, table, dict(postings.code_of))
            positions, known = _positions(seqs, np.concatenate([old_seqs[keep], row_seqs]))
            fields[name] = FieldPostings(
                positions[known], np.concatenate([postings.codes[keep], codes])[known],
                np.concatenate([postings.numbers[keep], numbers])[known], table)
        rank_texts = [np.concatenate([old[kept], new])[order] for old, new in zip(self.rank_texts, fresh_texts)]
        return ColumnStore(self.docs_table, revision, seqs, fields, sort_keys, rank_texts)

    # ---- queries

    def positions_of(self, seqs: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the given seqs, and which of them this store knows (a document written after the
        store was loaded, in a race, is left out)."""
        return _positions(self.seqs, np.fromiter(seqs, dtype=np.int64))

    def filter_mask(self, filters: Mapping[str, object], base: np.ndarray | None = None) -> np.ndarray:
        """Documents passing every filter (AND across fields, OR within one), within ``base`` if given."""
        mask = np.ones(self.size, dtype=bool) if base is None else base.copy()
        for name, accepted in filters.items():
            field_mask = np.zeros(self.size, dtype=bool)
            postings = self.fields.get(name)
            if postings is not None and accepted:
                postings.mark(accepted, field_mask)
            mask &= field_mask
        return mask

    def scores(self, candidates: np.ndarray, alternatives_per_group: Sequence[Sequence[str]]) -> np.ndarray:
        """Relevance of the documents at ``candidates``: per query group, the weight of the most important
        rank column holding one of its alternatives (columns weigh len+1 down to 2), else 1; summed."""
        total = np.zeros(len(candidates), dtype=np.float64)
        weights = range(len(self.rank_texts) + 1, 1, -1)
        for alternatives in alternatives_per_group:
            score = np.ones(len(candidates), dtype=np.float64)
            open_ = np.arange(len(candidates))  # indexes into candidates not yet given a column weight
            for texts, weight in zip(self.rank_texts, weights):
                if not len(open_):
                    break
                chosen = texts[candidates[open_]].tolist()
                hit = np.zeros(len(open_), dtype=bool)
                for alternative in alternatives:  # a plain `in` per text is the fastest test here
                    hit |= np.array([alternative in text for text in chosen], dtype=bool)
                score[open_[hit]] = weight
                open_ = open_[~hit]
            total += score
        return total

    def facet_counts(self, names: Sequence[str], mask: np.ndarray, limit: int) -> dict[str, dict[str, int]]:
        """Per facet, the ``limit`` most frequent values among ``mask`` (ties by value)."""
        out: dict[str, dict[str, int]] = {}
        for name in names:
            postings = self.fields.get(name)
            counted = postings.counts(mask) if postings is not None else {}
            ordered = sorted(counted.items(), key=lambda item: (-item[1], item[0]))[:limit]
            out[name] = dict(ordered)
        return out

    def page(self, mask: np.ndarray, sort: Sequence[tuple[str, bool]],
             alternatives_per_group: Sequence[Sequence[str]] | None, offset: int, limit: int) -> np.ndarray:
        """Positions of one page of the documents in ``mask``: sort keys first (missing values last), then
        the relevance (highest first) when there are query groups, then insertion order."""
        rank, permutation = self._order(tuple(sort))
        if not alternatives_per_group:
            # Precomputed order of every document: keep those in the mask, in that order.
            if permutation is None:
                chosen = np.flatnonzero(mask)
            else:
                chosen = permutation[mask[permutation]]
            return chosen[offset:offset + limit]
        candidates = np.flatnonzero(mask)
        keys = [candidates, -self.scores(candidates, alternatives_per_group)]
        if rank is not None:
            keys.append(rank[candidates])
        ordered = candidates[np.lexsort(keys)]
        return ordered[offset:offset + limit]

    def _order(self, sort: tuple[tuple[str, bool], ...]) -> tuple[np.ndarray | None, np.ndarray | None]:
        """(rank of each document under ``sort``, equal ranks for equal keys; the positions in that order,
        insertion order breaking ties), computed once per sort."""
        if not sort:
            return None, None
        cached = self._orders.get(sort)
        if cached is not None:
            return cached
        keys = []  # most significant first
        for name, descending in sort:
            numbers, ranks = self.sort_keys[name].numbers, self.sort_keys[name].ranks
            has_number = ~np.isnan(numbers)
            number_key = np.where(has_number, numbers, 0.0)
            rank_key = ranks.astype(np.float64)
            sign = -1.0 if descending else 1.0
            keys += [~has_number, sign * number_key, ranks < 0, sign * rank_key]
        stacked = np.vstack([np.asarray(k, dtype=np.float64) for k in keys]) if self.size else None
        if stacked is None:
            empty = np.zeros(0, dtype=np.int64)
            self._orders[sort] = (empty, empty)
            return empty, empty
        permutation = np.lexsort([np.arange(self.size), *stacked[::-1]])
        in_order = stacked[:, permutation]
        changes = np.any(in_order[:, 1:] != in_order[:, :-1], axis=0)
        rank = np.empty(self.size, dtype=np.int64)
        rank[permutation] = np.concatenate([[0], np.cumsum(changes)])
        self._orders[sort] = (rank, permutation)
        return rank, permutation


CHUNK = 500  # seqs per IN (...) when reading changed documents


def _chunks(seqs: np.ndarray | None):
    if seqs is None:
        yield None
        return
    for start in range(0, len(seqs), CHUNK):
        yield [int(s) for s in seqs[start:start + CHUNK]]


def _in_clause(chunk: list[int] | None, params: dict) -> str:
    if chunk is None:
        return ""
    names = []
    for n, seq in enumerate(chunk):
        params[f"s{n}"] = seq
        names.append(f":s{n}")
    return f" seq IN ({', '.join(names)})"


def _read_doc_rows(conn: Connection, layout: Layout, seqs: np.ndarray | None):
    """(seqs in increasing order, {sort field: (numbers, strings)}, [texts of each rank column]) of every
    document or of ``seqs``."""
    columns = [c for name in layout.sort_columns for c in layout.sort_columns[name]] + list(layout.rank_columns)
    rows: list = []
    for chunk in _chunks(seqs):
        params: dict = {}
        where = _in_clause(chunk, params)
        rows += conn.execute(sa.text(f'SELECT {", ".join(["seq", *columns])} FROM "{layout.docs}"'
                                     + (f" WHERE{where}" if where else "") + " ORDER BY seq"), params).all()
    rows.sort(key=lambda r: r[0])
    out = {}
    for i, name in enumerate(layout.sort_columns):
        numbers = np.array([_number(r[1 + 2 * i]) for r in rows], dtype=np.float64)
        out[name] = (numbers, [r[2 + 2 * i] for r in rows])
    first_text = 1 + 2 * len(layout.sort_columns)
    texts = []
    for i in range(len(layout.rank_columns)):
        column = np.empty(len(rows), dtype=object)
        column[:] = [r[first_text + i] or "" for r in rows]
        texts.append(column)
    return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)), out, texts


def _read_values(conn: Connection, layout: Layout, name: str, seqs: np.ndarray | None):
    """(seqs, string values, numbers) of the value rows of field ``name``, of every document or of ``seqs``."""
    rows: list = []
    for chunk in _chunks(seqs):
        params: dict = {"field": name}
        where = _in_clause(chunk, params)
        rows += conn.execute(sa.text(f'SELECT seq, str_value, num_value FROM "{layout.fields}"'
                                     f" WHERE field = :field" + (f" AND{where}" if where else "")), params).all()
    row_seqs = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    numbers = np.fromiter((math.nan if r[2] is None else r[2] for r in rows), dtype=np.float64, count=len(rows))
    return row_seqs, [r[1] for r in rows], numbers


def _encode(values: list[str], table: list[str], code_of: dict[str, int]) -> tuple[np.ndarray, list[str]]:
    """Codes of ``values``, adding unseen values to ``table`` (and ``code_of``)."""
    codes = np.empty(len(values), dtype=np.int64)
    for n, value in enumerate(values):
        code = code_of.get(value)
        if code is None:
            code = code_of[value] = len(table)
            table.append(value)
        codes[n] = code
    return codes, table


def _positions(seqs: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions in ``seqs`` of ``wanted``, and which of them are there (the value table is read after the
    docs table, so a document written in between has values but no position yet: it is left out)."""
    positions = np.searchsorted(seqs, wanted)
    if not len(seqs):
        return positions, np.zeros(len(wanted), dtype=bool)
    known = (positions < len(seqs)) & (seqs[np.minimum(positions, len(seqs) - 1)] == wanted)
    return positions, known


def _number(value) -> float:
    if value is None:
        return math.nan
    return float(value)

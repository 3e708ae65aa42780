"""Embedded backend on SQLite: FTS5 with the `trigram` tokenizer (substring search that works
for Chinese without a segmenter), a second FTS5 table of character pairs for terms of two characters,
which trigrams cannot index (e.g. 核酸 / 测温 / "5g"), and a LIKE scan for single characters."""
from __future__ import annotations

import itertools
import sqlite3

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ._embedded import EmbeddedBackend, Layout, SqlParams, like_pattern
from .text import MIN_TRIGRAM_LEN, TermGroup, bigram_token, bigram_tokens


class SQLiteBackend(EmbeddedBackend):
    """SQLite implementation (tables `search_<index>_<generation>_*`, see search._embedded)."""

    kind = "sqlite"

    def __init__(self, engine, index_prefix: str = "", column_cache: bool = True) -> None:
        super().__init__(engine, index_prefix, column_cache)
        self._has_trigram = True
        self._pair_tables: dict[str, bool] = {}  # generations built before the pair table have none

    def _prepare(self, conn: Connection) -> None:
        version = conn.exec_driver_sql("SELECT sqlite_version()").scalar_one()
        # The trigram tokenizer exists since SQLite 3.34; older builds fall back to LIKE scans.
        self._has_trigram = tuple(int(p) for p in version.split(".")[:2]) >= (3, 34)

    def _create_tables(self, conn: Connection, layout: Layout) -> None:
        rank = "".join(f", {c} TEXT" for c in layout.rank_columns)
        sort = "".join(f", {n} REAL, {s} TEXT" for n, s in layout.sort_columns.values())
        statements = [
            (f'CREATE TABLE "{layout.docs}" (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,'
            f" doc TEXT NOT NULL, search_text TEXT NOT NULL{rank}{sort})"),
            (f'CREATE TABLE "{layout.fields}" (seq INTEGER NOT NULL, field TEXT NOT NULL,'
            " str_value TEXT NOT NULL, num_value REAL)"),
            f'CREATE INDEX "{layout.base}_f_str" ON "{layout.fields}" (field, str_value, seq)',
            f'CREATE INDEX "{layout.base}_f_num" ON "{layout.fields}" (field, num_value, seq)',
            f'CREATE INDEX "{layout.base}_f_seq" ON "{layout.fields}" (seq)',
            f'CREATE TABLE "{layout.vocab}" (word TEXT PRIMARY KEY) WITHOUT ROWID',
        ]
        for i, (num_col, str_col) in enumerate(layout.sort_columns.values()):
            statements.append(f'CREATE INDEX "{layout.base}_s{i}" ON "{layout.docs}" ({num_col}, {str_col})')
        if self._has_trigram:
            # Contentless: the text lives in the docs table; deletes pass the old text back.
            statements.append(
                f'CREATE VIRTUAL TABLE "{layout.fts}" USING fts5(search_text, tokenize=\'trigram\', content=\'\')'
            )
            # Pairs of characters (see text.bigram_tokens); presence only, so no positions are stored.
            statements.append(
                f'CREATE VIRTUAL TABLE "{_pairs(layout)}" USING fts5(pairs, tokenize=\'ascii\', content=\'\','
                " detail='none')"
            )
        for statement in statements:
            conn.execute(sa.text(statement))

    def _drop_tables(self, conn: Connection, layout: Layout) -> None:
        super()._drop_tables(conn, layout)
        conn.execute(sa.text(f'DROP TABLE IF EXISTS "{layout.fts}"'))
        conn.execute(sa.text(f'DROP TABLE IF EXISTS "{_pairs(layout)}"'))

    def _has_pairs(self, conn: Connection, layout: Layout) -> bool:
        known = self._pair_tables.get(layout.docs)
        if known is None:
            known = self._pair_tables[layout.docs] = conn.execute(
                sa.text("SELECT 1 FROM sqlite_master WHERE name = :name"), {"name": _pairs(layout)}).first() is not None
        return known

    def _match_sql(self, layout: Layout, groups: list[TermGroup], params: SqlParams,
                   conn: Connection | None = None) -> str:
        clauses = []
        indexed = [g for g in groups if self._has_trigram
                   and all(len(a) >= MIN_TRIGRAM_LEN for a in g.all_alternatives)]
        if indexed:
            expression = " AND ".join(
                "(" + " OR ".join(_fts_string(a) for a in g.all_alternatives) + ")" for g in indexed
            )
            clauses.append(f'd.seq IN (SELECT rowid FROM "{layout.fts}" WHERE "{layout.fts}" MATCH {params.add(expression)})')
        pairs = self._has_trigram and conn is not None and self._has_pairs(conn, layout)
        for group in groups:
            if group in indexed:
                continue
            if pairs and all(len(a) >= 2 for a in group.all_alternatives):
                # Two-character alternatives through the pair table, longer ones through the trigram table.
                short = [a for a in group.all_alternatives if len(a) == 2]
                long = [a for a in group.all_alternatives if len(a) > 2]
                pair_expression = " OR ".join(_fts_string(bigram_token(a)) for a in short)
                pair_table = _pairs(layout)
                parts = [f'd.seq IN (SELECT rowid FROM "{pair_table}" WHERE "{pair_table}" MATCH {params.add(pair_expression)})']
                if long:
                    parts.append(f'd.seq IN (SELECT rowid FROM "{layout.fts}" WHERE "{layout.fts}" MATCH '
                                 f'{params.add(" OR ".join(_fts_string(a) for a in long))})')
                clauses.append("(" + " OR ".join(parts) + ")")
                continue
            # A single character: scan the normalised text (narrowed by FTS when combined).
            clauses.append("(" + " OR ".join(
                f"d.search_text LIKE {params.add(like_pattern(a))} ESCAPE '\\'" for a in group.all_alternatives
            ) + ")")
        return " AND ".join(clauses)

    def _match_seqs(self, conn: Connection, layout: Layout, groups: list[TermGroup]):
        """From the full-text tables alone when every group can use them (reading the rows of the matching
        documents costs more than the text search itself)."""
        pairs = self._has_trigram and self._has_pairs(conn, layout)
        if not pairs or any(len(a) < 2 for g in groups for a in g.all_alternatives):
            return super()._match_seqs(conn, layout, groups)
        found: np.ndarray | None = None
        trigram_groups = [g for g in groups if all(len(a) >= MIN_TRIGRAM_LEN for a in g.all_alternatives)]
        queries = []
        if trigram_groups:
            queries.append((layout.fts, " AND ".join(
                "(" + " OR ".join(_fts_string(a) for a in g.all_alternatives) + ")" for g in trigram_groups)))
        for group in groups:
            if group in trigram_groups:
                continue
            queries.append(("", group))
        for table, expression in queries:
            if table:
                seqs = _rowids(conn, table, expression)
            else:
                seqs = self._group_seqs(conn, layout, expression)
            found = seqs if found is None else np.intersect1d(found, seqs, assume_unique=True)
            if not len(found):
                return found
        return found

    def _group_seqs(self, conn: Connection, layout: Layout, group: TermGroup) -> np.ndarray:
        """Seqs of documents holding any alternative of a group with two-character ones."""
        short = [a for a in group.all_alternatives if len(a) == 2]
        long = [a for a in group.all_alternatives if len(a) > 2]
        seqs = _rowids(conn, _pairs(layout), " OR ".join(_fts_string(bigram_token(a)) for a in short))
        if long:
            seqs = np.union1d(seqs, _rowids(conn, layout.fts, " OR ".join(_fts_string(a) for a in long)))
        return seqs

    def _lock_for_write(self, conn: Connection, layout: Layout) -> None:
        # A write statement, even one touching no row, begins the transaction holding SQLite's one write
        # lock (waiting for it under busy_timeout); the reads that follow see the latest committed rows.
        conn.execute(sa.text(f'UPDATE "{layout.docs}" SET seq = seq WHERE 0 = 1'))

    def _insert_vocab(self, conn: Connection, layout: Layout, words: set[str]) -> None:
        conn.execute(sa.text(f'INSERT OR IGNORE INTO "{layout.vocab}" (word) VALUES (:word)'),
                     [{"word": w} for w in sorted(words)])

    def _after_docs_inserted(self, conn: Connection, layout: Layout, rows: list[dict]) -> None:
        if self._has_trigram and rows:
            conn.execute(sa.text(f'INSERT INTO "{layout.fts}" (rowid, search_text) VALUES (:seq, :search_text)'),
                         [{"seq": r["seq"], "search_text": r["search_text"]} for r in rows])
            if self._has_pairs(conn, layout):
                conn.execute(sa.text(f'INSERT INTO "{_pairs(layout)}" (rowid, pairs) VALUES (:seq, :pairs)'),
                             [{"seq": r["seq"], "pairs": bigram_tokens(r["search_text"])} for r in rows])

    def _before_docs_deleted(self, conn: Connection, layout: Layout, rows: list[tuple[int, str]]) -> None:
        if self._has_trigram and rows:
            conn.execute(
                sa.text(f'INSERT INTO "{layout.fts}" ("{layout.fts}", rowid, search_text) VALUES (\'delete\', :seq, :t)'),
                [{"seq": seq, "t": text} for seq, text in rows],
            )
            if self._has_pairs(conn, layout):
                table = _pairs(layout)
                conn.execute(
                    sa.text(f'INSERT INTO "{table}" ("{table}", rowid, pairs) VALUES (\'delete\', :seq, :p)'),
                    [{"seq": seq, "p": bigram_tokens(text)} for seq, text in rows],
                )

    def _health_details(self) -> dict:
        with self.engine.connect() as conn:
            version = conn.exec_driver_sql("SELECT sqlite_version()").scalar_one()
        return {"sqlite_version": version, "fts5_trigram": self._has_trigram}


def _rowids(conn: Connection, table: str, expression: str) -> np.ndarray:
    """Sorted rowids of an FTS5 table matching ``expression`` (read through the driver: tens of thousands of
    one-column rows cost several times more through result objects)."""
    statement = f'SELECT rowid FROM "{table}" WHERE "{table}" MATCH ?'
    try:
        cursor = conn.connection.driver_connection.execute(statement, (expression,))
        return np.unique(np.fromiter(itertools.chain.from_iterable(cursor), dtype=np.int64))
    except sqlite3.Error as exc:
        # Raised as SQLAlchemy raises it, so callers treat it alike: a search retries once when a concurrent
        # reindex dropped the generation it had looked up ("vtable constructor failed").
        raise sa.exc.DBAPIError.instance(statement, (expression,), exc, sqlite3.Error) from exc


def _pairs(layout: Layout) -> str:
    """The character-pair table of a generation."""
    return f"{layout.base}_pairs"


def _fts_string(term: str) -> str:
    """``term`` as an FTS5 string (matched literally)."""
    return '"' + term.replace('"', '""') + '"'

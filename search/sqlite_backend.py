"""Embedded backend on SQLite: FTS5 with the `trigram` tokenizer (substring search that works
for Chinese without a segmenter), plus a LIKE scan for terms of one or two characters, which
trigrams cannot index (e.g. 核酸 / 测温 / "5g")."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ._embedded import EmbeddedBackend, Layout, SqlParams, like_pattern
from .text import MIN_TRIGRAM_LEN, TermGroup


class SQLiteBackend(EmbeddedBackend):
    """SQLite implementation (tables `search_<index>_<generation>_*`, see search._embedded)."""

    kind = "sqlite"

    def __init__(self, engine, index_prefix: str = "") -> None:
        super().__init__(engine, index_prefix)
        self._has_trigram = True

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
        for statement in statements:
            conn.execute(sa.text(statement))

    def _drop_tables(self, conn: Connection, layout: Layout) -> None:
        super()._drop_tables(conn, layout)
        conn.execute(sa.text(f'DROP TABLE IF EXISTS "{layout.fts}"'))

    def _match_sql(self, layout: Layout, groups: list[TermGroup], params: SqlParams) -> str:
        clauses = []
        indexed = [g for g in groups if self._has_trigram
                   and all(len(a) >= MIN_TRIGRAM_LEN for a in g.all_alternatives)]
        if indexed:
            expression = " AND ".join(
                "(" + " OR ".join('"' + a.replace('"', '""') + '"' for a in g.all_alternatives) + ")"
                for g in indexed
            )
            clauses.append(f'd.seq IN (SELECT rowid FROM "{layout.fts}" WHERE "{layout.fts}" MATCH {params.add(expression)})')
        for group in groups:
            if group in indexed:
                continue
            # Too short for trigrams: scan the normalised text (narrowed by FTS when combined).
            clauses.append("(" + " OR ".join(
                f"d.search_text LIKE {params.add(like_pattern(a))} ESCAPE '\\'" for a in group.all_alternatives
            ) + ")")
        return " AND ".join(clauses)

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

    def _before_docs_deleted(self, conn: Connection, layout: Layout, rows: list[tuple[int, str]]) -> None:
        if self._has_trigram and rows:
            conn.execute(
                sa.text(f'INSERT INTO "{layout.fts}" ("{layout.fts}", rowid, search_text) VALUES (\'delete\', :seq, :t)'),
                [{"seq": seq, "t": text} for seq, text in rows],
            )

    def _health_details(self) -> dict:
        with self.engine.connect() as conn:
            version = conn.exec_driver_sql("SELECT sqlite_version()").scalar_one()
        return {"sqlite_version": version, "fts5_trigram": self._has_trigram}

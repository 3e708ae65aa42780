"""The PostgreSQL backend's text indexes on narrow tables: a generation built that way answers exactly as one
built the previous way (trigram index on the documents table), follows writes and deletes, and generations built
before stay searchable by a backend that builds the new layout."""
from __future__ import annotations

import copy
import secrets

import pytest
import sqlalchemy as sa
from test_search_columns import QUERIES  # tests/search is on sys.path (no package)

from search import SearchQuery
from search.postgres_backend import PostgresBackend

MORE_QUERIES = [
    SearchQuery(q="测温 ai"),
    SearchQuery(q="核酸检测 试剂", facets=["kind"]),  # a long group and a two-character one
    SearchQuery(q="temperature screening", highlight=True),
]


@pytest.fixture()
def pg_backends(search_pg_engine):
    made = []

    def make(text_table: bool) -> PostgresBackend:
        backend = PostgresBackend(search_pg_engine, index_prefix=f"t{secrets.token_hex(3)}_", text_table=text_table)
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.drop_index("offers")


def _answers(backend, queries=(*QUERIES, *MORE_QUERIES)):
    answers = []
    for column_cache in (True, False):
        backend.column_cache = column_cache
        for query in queries:
            result = backend.search("offers", query)
            answers.append((result.ids, result.total, result.facets, [h.highlights for h in result.hits]))
    backend.column_cache = True
    return answers


def _tables(backend) -> dict[str, int]:
    """{table suffix: rows} of the index's current generation."""
    with backend.engine.connect() as conn:
        layout = backend._layout(conn, "offers")
        found = {}
        for suffix in ("docs", "text", "pairs"):
            name = f"{layout.base}_{suffix}"
            if conn.execute(sa.text("SELECT to_regclass(:n) IS NOT NULL"), {"n": f'"{name}"'}).scalar_one():
                found[suffix] = conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one()
        return found


def _trigram_table(backend) -> str | None:
    with backend.engine.connect() as conn:
        layout = backend._layout(conn, "offers")
        return conn.execute(sa.text("SELECT tablename FROM pg_indexes WHERE indexname = :n"),
                            {"n": f"{layout.base}_trgm"}).scalar()


def test_narrow_tables_answer_like_the_documents_table(pg_backends, search_spec, search_corpus):
    new, before = pg_backends(True), pg_backends(False)
    for backend in (new, before):
        backend.ensure_index(search_spec)
        backend.upsert("offers", search_corpus)
    assert _trigram_table(new).endswith("_text") and _trigram_table(before).endswith("_docs")
    assert _tables(new) == {"docs": len(search_corpus), "text": len(search_corpus), "pairs": len(search_corpus)}
    assert _answers(new) == _answers(before)

    changed = copy.deepcopy(search_corpus[1])
    changed.update(title_zh="全新的呼吸面罩", title_en="Brand new breathing mask", summary_zh="", summary_en="",
                   body="")
    for backend in (new, before):
        backend.upsert("offers", [changed])
        backend.delete("offers", [search_corpus[3]["id"]])
    assert _tables(new) == {table: len(search_corpus) - 1 for table in ("docs", "text", "pairs")}
    assert new.search("offers", SearchQuery(q="呼吸面罩")).ids == [changed["id"]]
    assert new.search("offers", SearchQuery(q="面罩")).ids == [changed["id"]]  # two characters: the pair table
    assert _answers(new) == _answers(before)


def test_generations_built_before_stay_searchable(pg_backends, search_spec, search_corpus):
    before = pg_backends(False)
    before.ensure_index(search_spec)
    before.upsert("offers", search_corpus)
    expected = _answers(before)
    reader = PostgresBackend(before.engine, index_prefix=before.index_prefix)  # builds the new layout itself
    assert _answers(reader) == expected
    reader.upsert("offers", [{**copy.deepcopy(search_corpus[0]), "id": "o77", "title_zh": "面罩测试"}])
    assert reader.search("offers", SearchQuery(q="面罩测试")).ids == ["o77"]
    assert "text" not in _tables(reader)
    reader.reindex(search_spec, search_corpus)  # a rebuild moves the index to the narrow tables
    assert _trigram_table(reader).endswith("_text")
    assert _answers(reader) == expected

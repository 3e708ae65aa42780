"""The embedded backends' in-memory columns: searches answered through them equal the same searches done wholly
in SQL (the implementation before them), and they follow writes made by any backend instance, from the change log
when it reaches back far enough, else by reading everything again."""
from __future__ import annotations

import copy

import pytest

from search import SearchQuery
from search._embedded import columns, storage
from search.text import bigram_tokens

QUERIES = [
    SearchQuery(q="", facets=["kind", "field", "trl"], per_page=5),
    SearchQuery(q="", filters={"visibility": ["public"]}, facets=["kind", "direction"], sort=["published_at:desc"]),
    SearchQuery(q="", filters={"trl": {"gte": 6, "lt": 9}}, sort=["trl:desc", "title_en:asc"], facets=["trl"]),
    SearchQuery(q="", sort=["title_en:desc"], page=2, per_page=4),
    SearchQuery(q="核酸检测", filters={"visibility": ["public", "org:5"]}, facets=["kind"]),
    SearchQuery(q="测温", facets=["field"], highlight=True),  # two characters, and a synonym group
    SearchQuery(q="机器人", sort=["published_at:asc"]),
    SearchQuery(q="robot", filters={"kind": ["product", "technology"]}, facets=["kind", "field"]),
    SearchQuery(q="ventilater", facets=["direction"]),  # one typo
    SearchQuery(q="ai 影像"),  # a two-letter latin term and a two-character Chinese one
    SearchQuery(q="机", per_page=3),  # one character: scanned
    SearchQuery(q="PCR", filters={"direction": ["demand"]}),
    SearchQuery(q="sensor", filters={"kind": []}),  # an empty filter matches nothing
    SearchQuery(q="nothing-like-this"),
]


def _answer(backend, query: SearchQuery):
    result = backend.search("offers", query)
    return result.ids, result.total, result.facets, [h.highlights for h in result.hits]


def _both(backend, query: SearchQuery):
    backend.column_cache = True
    with_columns = _answer(backend, query)
    backend.column_cache = False
    in_sql = _answer(backend, query)
    backend.column_cache = True
    return with_columns, in_sql


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_searches_through_the_columns_equal_searches_in_sql(kind, search_make_backend, search_spec, search_corpus):
    backend = search_make_backend(kind)
    backend.ensure_index(search_spec)
    backend.upsert("offers", search_corpus)
    for query in QUERIES:
        with_columns, in_sql = _both(backend, query)
        assert with_columns == in_sql, query


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_columns_follow_writes_from_the_change_log(kind, search_make_backend, search_spec, search_corpus,
                                                   monkeypatch):
    writer = search_make_backend(kind)
    writer.ensure_index(search_spec)
    writer.upsert("offers", search_corpus)
    reader = type(writer)(writer.engine, writer.index_prefix)  # another process's instance on the same index
    assert _answer(reader, QUERIES[0])[1] == len(search_corpus)
    full_loads = []
    original_load = columns.ColumnStore.load.__func__
    monkeypatch.setattr(columns.ColumnStore, "load",
                        classmethod(lambda cls, *a: full_loads.append(a) or original_load(cls, *a)))

    changed = copy.deepcopy(search_corpus[1])
    changed.update(kind="service", trl=2, title_en="Renamed ventilator", published_at="2030-01-01")
    writer.upsert("offers", [changed, {**copy.deepcopy(search_corpus[2]), "id": "o99", "visibility": ["org:3"]}])
    writer.delete("offers", ["o4"])
    for query in QUERIES:
        with_columns, in_sql = _both(reader, query)
        assert with_columns == in_sql, query
    assert full_loads == []  # brought up to date from the log, not read again
    assert reader.search("offers", SearchQuery(q="", sort=["published_at:desc"], per_page=1)).ids == ["o2"]
    assert "o4" not in reader.search("offers", SearchQuery(q="", per_page=100)).ids


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_columns_are_read_again_when_the_log_no_longer_reaches_back(kind, search_make_backend, search_spec,
                                                                    search_corpus, monkeypatch):
    monkeypatch.setattr(storage, "CHANGES_KEPT", 2)
    writer = search_make_backend(kind)
    writer.ensure_index(search_spec)
    writer.upsert("offers", search_corpus)
    reader = type(writer)(writer.engine, writer.index_prefix)
    reader.search("offers", QUERIES[0])
    for n in range(4):  # more writes than the log keeps
        writer.upsert("offers", [{**copy.deepcopy(search_corpus[0]), "id": f"n{n}", "trl": n}])
    full_loads = []
    original_load = columns.ColumnStore.load.__func__
    monkeypatch.setattr(columns.ColumnStore, "load",
                        classmethod(lambda cls, *a: full_loads.append(a) or original_load(cls, *a)))
    for query in QUERIES:
        with_columns, in_sql = _both(reader, query)
        assert with_columns == in_sql, query
    assert len(full_loads) == 1


def test_reindex_serves_the_new_generation_through_fresh_columns(search_make_backend, search_spec, search_corpus):
    backend = search_make_backend("sqlite")
    backend.ensure_index(search_spec)
    backend.upsert("offers", search_corpus)
    backend.search("offers", QUERIES[0])
    backend.reindex(search_spec, search_corpus[:3])
    assert _answer(backend, QUERIES[0])[1] == 3
    assert _both(backend, QUERIES[1])[0] == _both(backend, QUERIES[1])[1]


def test_character_pairs_skip_spaces_and_stay_distinct():
    assert bigram_tokens("测温 门") == f"{ord('测'):x}x{ord('温'):x}"
    assert bigram_tokens("aaa") == f"{ord('a'):x}x{ord('a'):x}"
    assert bigram_tokens("x") == ""


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_suggestions_through_the_columns_equal_suggestions_in_sql(kind, search_make_backend, search_spec,
                                                                 search_corpus):
    backend = search_make_backend(kind)
    backend.ensure_index(search_spec)
    backend.upsert("offers", search_corpus)
    for prefix, filters in [("核酸", {"visibility": ["public"]}), ("呼", None), ("robot", {"kind": ["product"]}),
                            ("vent", {"visibility": ["org:7"]}), ("temperature scr", None), ("zzz", None)]:
        backend.column_cache = True
        with_columns = backend.suggest("offers", prefix, filters=filters)
        backend.column_cache = False
        in_sql = backend.suggest("offers", prefix, filters=filters)
        backend.column_cache = True
        assert with_columns == in_sql, prefix

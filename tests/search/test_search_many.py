"""Contract of `search_many` (several queries at once), `SearchQuery.retrieve` and `ping`, on every backend."""
from __future__ import annotations

import pytest

from search import IndexSpec, SearchError, SearchQuery

INDEX = "offers"
PUBLIC = {"visibility": ["public"]}

PEOPLE = IndexSpec(name="people", searchable=["name"], filterable=["visibility", "team"], facets=["team"])
PEOPLE_DOCS = [
    {"id": "p1", "name": "Ventilator engineer", "team": "devices", "visibility": ["public"]},
    {"id": "p2", "name": "PCR lab lead", "team": "biomed", "visibility": ["public"]},
    {"id": "p3", "name": "Ventilator nurse", "team": "care", "visibility": ["org:5"]},
]


@pytest.fixture(scope="module")
def two_indexes(search_loaded):
    """The loaded "offers" index and a small "people" index on the same backend."""
    search_loaded.ensure_index(PEOPLE)
    search_loaded.upsert(PEOPLE.name, PEOPLE_DOCS)
    return search_loaded


def _queries():
    return [
        (INDEX, SearchQuery(q="ventilator", filters=PUBLIC, facets=["kind"], highlight=True)),
        ("people", SearchQuery(q="ventilator", filters=PUBLIC, per_page=1)),
        (INDEX, SearchQuery(filters={**PUBLIC, "field": ["biomed"]}, sort=["published_at:desc"], page=2, per_page=2)),
        (INDEX, SearchQuery(q="ventilator", filters={"visibility": []})),  # matches nothing
    ]


def test_search_many_gives_the_answers_of_search_in_order(two_indexes):
    many = two_indexes.search_many(_queries())
    single = [two_indexes.search(name, query) for name, query in _queries()]
    assert len(many) == 4
    for got, want in zip(many, single):
        assert got.ids == want.ids
        assert got.total == want.total
        assert got.facets == want.facets
        assert (got.page, got.per_page) == (want.page, want.per_page)
        assert [h.highlights for h in got.hits] == [h.highlights for h in want.hits]
    assert many[0].total == 2 and set(many[0].ids) == {"o2", "o8"}
    assert many[1].total == 1 and many[1].ids == ["p1"]
    assert many[2].total == 3 and many[2].ids == ["o9"]  # newest first: o4, o1 on page 1
    assert many[3].ids == [] and many[3].total == 0


def test_search_many_of_nothing_is_empty(search_loaded):
    assert search_loaded.search_many([]) == []


def test_search_many_refuses_an_undeclared_filter(search_loaded):
    with pytest.raises(SearchError):
        search_loaded.search_many([(INDEX, SearchQuery(q="kit")), (INDEX, SearchQuery(filters={"colour": ["red"]}))])


def test_retrieve_keeps_the_id_and_the_fields_asked_for(search_loaded, search_corpus):
    by_id = {doc["id"]: doc for doc in search_corpus}
    result = search_loaded.search(INDEX, SearchQuery(q="ventilator", filters=PUBLIC, retrieve=["title_zh"]))
    assert set(result.ids) == {"o2", "o8"}
    for hit in result.hits:
        assert hit.document["id"] == hit.id
        assert hit.document["title_zh"] == by_id[hit.id]["title_zh"]
        if search_loaded.kind == "meilisearch":  # the server sends only what was asked for
            assert set(hit.document) == {"id", "title_zh"}


def test_retrieve_nothing_still_highlights(search_loaded):
    result = search_loaded.search(INDEX, SearchQuery(q="ventilator", filters=PUBLIC, retrieve=(), highlight=True,
                                                     sort=["published_at:asc"]))
    assert result.ids == ["o2", "o8"]
    assert all(hit.document["id"] == hit.id for hit in result.hits)
    assert "ventilator</mark>" in result.hits[0].highlights["title_en"].lower()


def test_ping_answers_true_when_reachable(search_loaded):
    assert search_loaded.ping() is True


def test_ping_is_false_when_meilisearch_cannot_be_reached():
    from search import create_backend
    from search.testing import free_port

    backend = create_backend(meili_url=f"http://127.0.0.1:{free_port()}", request_timeout=0.5)
    assert backend.ping() is False


def test_ping_is_false_when_the_embedded_database_cannot_be_reached():
    from search import create_backend
    from search.testing import free_port

    backend = create_backend(database_url=f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    try:
        assert backend.ping() is False
    finally:
        backend.close()

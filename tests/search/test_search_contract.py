"""Contract tests: every backend (sqlite, postgres, meilisearch) must give the same answers."""
from __future__ import annotations

import threading
import time

import pytest

from search import Hit, SearchError, SearchQuery, SearchResult

INDEX = "offers"
VIEWER = ["public", "org:5"]  # a member of organisation 5


@pytest.fixture
def corpus(search_corpus):
    return search_corpus


@pytest.fixture
def by_id(search_corpus):
    return {doc["id"]: doc for doc in search_corpus}


def ids(result: SearchResult) -> set[str]:
    return set(result.ids)


def search(backend, **kwargs) -> SearchResult:
    return backend.search(INDEX, SearchQuery(**kwargs))


def visible(corpus, *tokens: str) -> list[str]:
    return [d["id"] for d in corpus if set(d["visibility"]) & set(tokens)]


# --------------------------------------------------------------------------- matching


@pytest.mark.parametrize("q, filters, expected", [
    ("核酸检测", {"visibility": ["public"]}, {"o1", "o4"}),
    ("核酸检测", {"visibility": VIEWER}, {"o1", "o4", "o5"}),  # private o5 visible to org:5
    ("PCR", {"visibility": ["public"]}, {"o1", "o4"}),  # synonym of 核酸检测
    ("nucleic acid test", {"visibility": VIEWER}, {"o1", "o4", "o5"}),
    ("ventilator", {}, {"o2", "o8"}),
    ("呼吸机", {}, {"o2", "o8"}),  # synonym ventilator
    ("biodegradable stent", {}, {"o9"}),
    ("temperature screening", {"visibility": ["public"]}, {"o3"}),
    ("temperature screening", {}, {"o3", "o10"}),
    ("surgical robot", {"visibility": ["org:9"]}, {"o12"}),
    ("sensor", {"kind": ["technology"]}, {"o11"}),
])
def test_query_matches(search_loaded, q, filters, expected):
    assert ids(search(search_loaded, q=q, filters=filters)) == expected


def test_english_typo_is_tolerated(search_loaded):
    assert ids(search(search_loaded, q="ventilater")) == {"o2", "o8"}
    assert ids(search(search_loaded, q="biodegradble")) == {"o9"}


def test_two_character_chinese_query(search_loaded):
    # 2-character terms are below the trigram size: SQLite falls back to a LIKE scan.
    assert ids(search(search_loaded, q="影像")) == {"o7"}
    assert ids(search(search_loaded, q="测温", filters={"visibility": ["public"]})) == {"o3"}


def test_one_character_chinese_query_on_embedded(search_loaded):
    if search_loaded.kind == "meilisearch":
        pytest.skip("Meilisearch matches words (prefix), not single characters inside words")
    assert ids(search(search_loaded, q="剂")) == {"o1"}
    assert ids(search(search_loaded, q="支")) == {"o9"}


def test_no_match(search_loaded):
    result = search(search_loaded, q="quantum teleportation", facets=["kind"])
    assert result.total == 0 and result.hits == [] and result.facets == {"kind": {}}


# --------------------------------------------------------------------------- filters & facets


def test_browse_with_list_field_visibility(search_loaded, corpus):
    result = search(search_loaded, filters={"visibility": ["public"]}, per_page=50)
    assert ids(result) == set(visible(corpus, "public"))
    assert result.total == len(visible(corpus, "public"))
    result = search(search_loaded, filters={"visibility": ["org:7"]})
    assert ids(result) == {"o10"}


def test_filters_or_within_field_and_across_fields(search_loaded):
    result = search(search_loaded, filters={"kind": ["product", "technology"], "visibility": ["public"],
                                            "field": ["biomed", "ai"]})
    assert ids(result) == {"o1", "o7", "o11"}


def test_numeric_range_filter(search_loaded):
    result = search(search_loaded, filters={"trl": {"gte": 7}, "visibility": VIEWER})
    assert ids(result) == {"o1", "o2", "o3", "o7"}
    result = search(search_loaded, filters={"trl": {"gt": 4, "lt": 6}})
    assert ids(result) == {"o6"}


def test_scalar_filter_value_and_numeric_equality(search_loaded):
    assert ids(search(search_loaded, filters={"trl": 9})) == {"o2"}
    assert ids(search(search_loaded, filters={"kind": "patent"})) == {"o9"}


def test_empty_accepted_list_matches_nothing(search_loaded):
    assert search(search_loaded, filters={"visibility": []}).total == 0


def test_facet_counts(search_loaded, corpus, by_id):
    result = search(search_loaded, filters={"visibility": ["public"]}, facets=["kind", "direction", "trl"])
    public = [by_id[i] for i in visible(corpus, "public")]
    expected_kind: dict[str, int] = {}
    for doc in public:
        expected_kind[doc["kind"]] = expected_kind.get(doc["kind"], 0) + 1
    assert result.facets["kind"] == expected_kind
    assert result.facets["direction"] == {"supply": sum(d["direction"] == "supply" for d in public),
                                          "demand": sum(d["direction"] == "demand" for d in public)}
    assert result.facets["trl"]["7"] == 2  # numbers come back as strings
    assert list(result.facets["kind"].values()) == sorted(result.facets["kind"].values(), reverse=True)


def test_facets_follow_the_query(search_loaded):
    result = search(search_loaded, q="核酸检测", filters={"visibility": VIEWER}, facets=["kind"])
    assert result.facets["kind"] == {"product": 1, "service": 1, "technology": 1}


def test_undeclared_filter_or_sort_is_an_error(search_loaded):
    with pytest.raises(SearchError):
        search(search_loaded, filters={"org_name": ["x"]})
    with pytest.raises(SearchError):
        search(search_loaded, sort=["body:asc"])


# --------------------------------------------------------------------------- sort & pagination


def test_sort_by_date(search_loaded, corpus, by_id):
    result = search(search_loaded, filters={"visibility": ["public"]}, sort=["published_at:desc"], per_page=50)
    expected = sorted(visible(corpus, "public"), key=lambda i: by_id[i]["published_at"], reverse=True)
    assert result.ids == expected
    result = search(search_loaded, filters={"visibility": ["public"]}, sort=["published_at:asc"], per_page=50)
    assert result.ids == expected[::-1]


def test_sort_numeric_with_missing_values_last(search_loaded, by_id):
    result = search(search_loaded, filters={"visibility": VIEWER}, sort=["trl:desc", "published_at:asc"], per_page=50)
    docs = [by_id[i] for i in result.ids]
    with_trl = [d for d in docs if "trl" in d]
    assert [d["trl"] for d in with_trl] == sorted((d["trl"] for d in with_trl), reverse=True)
    assert all("trl" not in d for d in docs[len(with_trl):])  # missing values last
    assert result.ids[:2] == ["o2", "o1"]


def test_sort_applies_to_text_queries(search_loaded):
    result = search(search_loaded, q="核酸检测", filters={"visibility": VIEWER}, sort=["published_at:asc"])
    assert result.ids == ["o5", "o1", "o4"]


def test_pagination(search_loaded):
    everything = search(search_loaded, filters={"visibility": ["public"]}, sort=["published_at:desc"], per_page=50)
    pages = []
    for page in (1, 2, 3, 4):
        result = search(search_loaded, filters={"visibility": ["public"]}, sort=["published_at:desc"],
                        page=page, per_page=3)
        assert result.total == everything.total and result.page == page and result.per_page == 3
        pages.extend(result.ids)
    assert pages == everything.ids
    beyond = search(search_loaded, filters={"visibility": ["public"]}, page=99, per_page=3)
    assert beyond.hits == [] and beyond.total == everything.total
    assert everything.pages == 1 and search(search_loaded, per_page=5).pages == 3


# --------------------------------------------------------------------------- highlighting


def test_highlight_marks_matches(search_loaded):
    result = search(search_loaded, q="ventilator", highlight=True, sort=["published_at:asc"])
    hit = result.hits[0]
    assert hit.id == "o2"
    assert "<mark>" in hit.highlights["title_en"].lower() or "<mark>" in hit.highlights["title_en"]
    assert "ventilator</mark>" in hit.highlights["title_en"]


def test_highlight_escapes_document_html(search_loaded):
    result = search(search_loaded, q="robot", highlight=True, filters={"visibility": ["public"], "field": ["robotics"]},
                    sort=["published_at:asc"])
    hit = result.hits[0]
    assert hit.id == "o6"
    title = hit.highlights["title_en"]
    assert "<script>" not in title and "&lt;script&gt;" in title
    assert "&amp;" in title and "<mark>" in title
    stripped = title.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in stripped and ">" not in stripped  # only our own tags are raw HTML
    assert hit.document["title_en"].startswith("<script>")  # the document itself is untouched
    summary = hit.highlights["summary_en"]
    assert "&lt;b&gt;gripper&lt;/b&gt;" in summary and "<mark>" in summary


def test_highlight_chinese(search_loaded):
    result = search(search_loaded, q="核酸检测", highlight=True, filters={"visibility": ["public"]},
                    sort=["published_at:asc"])
    assert result.ids == ["o1", "o4"]
    assert "<mark>核酸" in result.hits[0].highlights["title_zh"]


def test_no_highlights_unless_asked(search_loaded):
    assert all(hit.highlights == {} for hit in search(search_loaded, q="ventilator").hits)


def test_result_shape(search_loaded, by_id):
    result = search(search_loaded, q="sensor")
    assert isinstance(result.hits[0], Hit)
    assert result.hits[0].document == by_id["o11"]
    assert result.backend == search_loaded.kind and result.took_ms >= 0


# --------------------------------------------------------------------------- suggestions


def test_suggest_titles(search_loaded):
    assert search_loaded.suggest(INDEX, "核酸", filters={"visibility": ["public"]}) == \
        ["核酸检测试剂盒", "核酸检测外包服务"]
    titles = search_loaded.suggest(INDEX, "surg")
    assert titles == ["Surgical robot navigation"]


def test_suggest_respects_visibility(search_loaded):
    assert "移动核酸检测实验室" not in search_loaded.suggest(INDEX, "移动", filters={"visibility": ["public"]})
    assert search_loaded.suggest(INDEX, "移动", filters={"visibility": VIEWER}) == ["移动核酸检测实验室"]
    assert search_loaded.suggest(INDEX, "", limit=5) == []


def test_suggest_limit(search_loaded):
    assert len(search_loaded.suggest(INDEX, "ventilator", limit=1)) == 1


# --------------------------------------------------------------------------- writes


def test_upsert_is_idempotent(search_fresh, corpus):
    backend = search_fresh
    assert backend.upsert(INDEX, corpus) == len(corpus)
    backend.upsert(INDEX, corpus)
    assert backend.count(INDEX) == len(corpus)
    assert backend.all_ids(INDEX) == {d["id"] for d in corpus}
    result = search(backend, q="核酸检测", filters={"visibility": VIEWER})
    assert sorted(result.ids) == sorted(set(result.ids)) and result.total == 3


def test_upsert_replaces_document(search_fresh, corpus, by_id):
    backend = search_fresh
    backend.upsert(INDEX, corpus)
    changed = dict(by_id["o9"], title_en="Bioresorbable scaffold patent", visibility=["org:5"])
    backend.upsert(INDEX, [changed])
    assert backend.count(INDEX) == len(corpus)
    assert ids(search(backend, q="biodegradable stent")) == set()
    assert ids(search(backend, q="bioresorbable", filters={"visibility": ["org:5"]})) == {"o9"}
    assert ids(search(backend, q="bioresorbable", filters={"visibility": ["public"]})) == set()


def test_delete(search_fresh, corpus):
    backend = search_fresh
    backend.upsert(INDEX, corpus)
    backend.delete(INDEX, ["o1", "does-not-exist"])
    assert backend.count(INDEX) == len(corpus) - 1
    assert "o1" not in backend.all_ids(INDEX)
    assert ids(search(backend, q="PCR")) == {"o4", "o5"}
    backend.delete(INDEX, [])
    assert backend.count(INDEX) == len(corpus) - 1


def test_invalid_document_id_is_rejected(search_fresh):
    with pytest.raises(SearchError):
        search_fresh.upsert(INDEX, [{"id": "offer:1", "title_en": "x"}])


def test_reindex_swaps_without_gap(search_fresh, corpus, by_id, search_spec):
    backend = search_fresh
    backend.upsert(INDEX, corpus)
    new_corpus = [dict(d, title_en=d["title_en"] + " v2") for d in corpus if d["id"] != "o1"]
    new_corpus.append(dict(by_id["o1"], id="o99"))

    def slow_docs():
        for doc in new_corpus:
            time.sleep(0.01)
            yield doc

    errors: list[BaseException] = []
    worker = threading.Thread(target=lambda: _capture(errors, backend.reindex, search_spec, slow_docs()))
    worker.start()
    seen = []
    while worker.is_alive():
        seen.append(frozenset(search(backend, q="PCR", filters={"visibility": ["public"]}).ids))
        time.sleep(0.01)
    worker.join()
    assert not errors, errors
    old, new = frozenset({"o1", "o4"}), frozenset({"o99", "o4"})
    assert seen and set(seen) <= {old, new}  # always a complete index, never empty
    assert ids(search(backend, q="PCR", filters={"visibility": ["public"]})) == new
    assert backend.all_ids(INDEX) == {d["id"] for d in new_corpus}
    assert "v2" in search(backend, q="sensor").hits[0].document["title_en"]


def _capture(errors, fn, *args):
    try:
        fn(*args)
    except BaseException as exc:  # surfaced by the test thread
        errors.append(exc)


def test_ensure_index_is_idempotent_and_health(search_fresh, corpus, search_spec):
    search_fresh.ensure_index(search_spec)
    search_fresh.upsert(INDEX, corpus[:3])
    search_fresh.ensure_index(search_spec)
    assert search_fresh.count(INDEX) == 3
    status = search_fresh.health()
    assert status["ok"] is True and status["backend"] == search_fresh.kind
    assert status["indexes"][INDEX] == 3

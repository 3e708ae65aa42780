"""The same queries must give the same id sets on every available backend."""
from __future__ import annotations

import pytest

from search import SearchQuery

QUERIES = [
    SearchQuery(q="核酸检测", filters={"visibility": ["public", "org:5"]}),
    SearchQuery(q="PCR"),
    SearchQuery(q="nucleic acid test", filters={"kind": ["product", "technology"]}),
    SearchQuery(q="呼吸机"),
    SearchQuery(q="ventilator", filters={"direction": ["demand"]}),
    SearchQuery(q="ventilater"),
    SearchQuery(q="测温"),
    SearchQuery(q="影像"),
    SearchQuery(q="机器人", filters={"visibility": ["public"]}),
    SearchQuery(q="robot", filters={"field": ["robotics"]}),
    SearchQuery(q="hospital"),
    SearchQuery(q="temperature screening", filters={"visibility": ["org:7"]}),
    SearchQuery(q="", filters={"visibility": ["public"], "trl": {"gte": 6, "lte": 8}}),
    SearchQuery(q="", filters={"kind": ["service"]}, facets=["direction", "field"]),
    SearchQuery(q="", filters={"visibility": ["public"]}, sort=["title_en:asc"], per_page=5, page=2),
]


def test_backends_agree(search_all_loaded):
    if len(search_all_loaded) < 2:
        pytest.skip("needs at least two backends")
    for query in QUERIES:
        answers = {}
        for kind, backend in search_all_loaded.items():
            result = backend.search("offers", query)
            ordered = bool(query.sort)
            answers[kind] = repr((tuple(result.ids) if ordered else sorted(result.ids), result.total, result.facets))
        distinct = set(answers.values())
        assert len(distinct) == 1, f"{query}: {answers}"

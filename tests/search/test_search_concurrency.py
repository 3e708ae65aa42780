"""Writers at the same time: concurrent upserts and deletes of the same documents on the embedded backends never
fail on a duplicate key or a lock upgrade, and leave every document, filter value and full-text entry in the
state of one complete write (the index equal to the last writer's documents)."""
from __future__ import annotations

import threading

import pytest

from search import SearchQuery

WRITERS = 4
ROUNDS = 15
DOCS = 20


NAMES = ["zulu", "alpha", "bravo", "charlie", "delta"]  # far apart, so typo tolerance never mixes them up


def _doc(i: int, writer: int, round_no: int) -> dict:
    return {"id": f"c{i}", "title_en": f"{NAMES[writer]} round{round_no}x item{i}x", "kind": f"k{writer}",
            "status": "published", "visibility": ["public"], "title_zh": f"并发文档{i}"}


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_concurrent_upserts_of_the_same_documents_end_consistent(kind, search_make_backend, search_spec):
    SPEC = search_spec  # noqa: N806
    backend = search_make_backend(kind)
    backend.ensure_index(SPEC)
    errors: list[BaseException] = []

    def write(writer: int):
        try:
            for round_no in range(ROUNDS):
                backend.upsert(SPEC.name, [_doc(i, writer, round_no) for i in range(DOCS)])
                if round_no % 5 == 4:
                    backend.delete(SPEC.name, [f"c{writer}"])
        except BaseException as exc:  # noqa: BLE001 (collected, then asserted on)
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(1, WRITERS + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    final = [_doc(i, 0, ROUNDS) for i in range(DOCS)]  # one last write decides the state
    backend.upsert(SPEC.name, final)
    assert backend.count(SPEC.name) == DOCS and backend.all_ids(SPEC.name) == {d["id"] for d in final}
    everything = backend.search(SPEC.name, SearchQuery(q="", per_page=100, facets=["kind"]))
    assert everything.facets["kind"] == {"k0": DOCS}  # no filter value left behind by a replaced copy
    for writer in range(1, WRITERS + 1):  # no full-text entry left behind either
        assert backend.search(SPEC.name, SearchQuery(q=NAMES[writer])).total == 0
    assert backend.search(SPEC.name, SearchQuery(q=f"round{ROUNDS}x")).total == DOCS

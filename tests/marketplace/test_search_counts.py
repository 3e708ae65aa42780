"""Popular searches are counted for every visit, the ones served from the page cache included, and written in
one transaction per interval and process rather than one write per search."""
from __future__ import annotations

import pytest

from marketplace import search_counts
from marketplace.services import search_terms
from tests.marketplace.test_page_cache import Clock, _state, cached  # noqa: F401 (fixture)
from tests.marketplace.test_search_help import _catalogue


def _counts(app) -> dict[str, int]:
    with app.app_context():
        return {t.term: t.count for t in search_terms.terms()}


@pytest.fixture
def tally(app):
    """The app's tally with a 10 s interval and a clock of the test's own."""
    saved = app.extensions[search_counts.EXTENSION]
    pending = search_counts.PendingCounts(10, clock=Clock())
    app.extensions[search_counts.EXTENSION] = pending
    yield pending
    app.extensions[search_counts.EXTENSION] = saved


def test_a_search_served_from_the_page_cache_is_counted_too(app, cached, make):
    _catalogue(make)
    states = [_state(app.test_client().get("/search/?q=呼吸机")) for _ in range(3)]
    assert states == ["miss", "hit", "hit"]
    assert _counts(app) == {"呼吸机": 3}
    # a search nobody may count (it looks personal) leaves no note for its replays either
    for _ in range(2):
        app.test_client().get("/search/?q=13800138000")
    assert _counts(app) == {"呼吸机": 3}


def test_counts_wait_for_the_interval_and_are_written_together(app, client, make, tally):
    _catalogue(make)
    for q in ("呼吸机", "呼吸机", "核酸检测"):
        assert client.get("/search/", query_string={"q": q}).status_code == 200
    assert _counts(app) == {}  # held by this process for now
    tally.clock.now += 10
    client.get("/search/", query_string={"q": "呼吸机"})
    assert _counts(app) == {"呼吸机": 3, "核酸检测": 1}
    client.get("/search/", query_string={"q": "呼吸机"})
    with app.app_context():
        assert search_counts.flush(force=True) == 1  # as a stopping worker does
    assert _counts(app) == {"呼吸机": 4, "核酸检测": 1}


def test_pending_counts_are_kept_after_a_failed_write_and_bounded():
    pending = search_counts.PendingCounts(5, clock=Clock())
    pending.add("呼吸机")
    assert not pending.take()
    pending.clock.now += 5
    taken = pending.take()
    assert taken == {"呼吸机": 1} and not pending.take(force=True)
    pending.give_back(taken)
    pending.add("呼吸机", 2)
    assert pending.take(force=True) == {"呼吸机": 3}
    for number in range(search_counts.MAX_PENDING_TERMS + 5):
        pending.add(f"term {number}")
    assert len(pending.take(force=True)) == search_counts.MAX_PENDING_TERMS


def test_a_stopping_gunicorn_worker_writes_the_counts_it_holds(app, client, make, tally):
    import runpy
    from types import SimpleNamespace

    from marketplace.config import PROJECT_ROOT
    _catalogue(make)
    client.get("/search/", query_string={"q": "核酸检测"})
    assert _counts(app) == {}
    settings = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))
    worker = SimpleNamespace(app=SimpleNamespace(wsgi=lambda: app))
    settings["worker_exit"](SimpleNamespace(log=None), worker)
    assert _counts(app) == {"核酸检测": 1}

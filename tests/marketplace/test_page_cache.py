"""The page cache for anonymous visitors: personal pages never shared, each visitor's own CSRF token, the
language part of the key, changes shown after an invalidation or the time to live, Redis shared or down."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from marketplace import page_cache
from marketplace.extensions import db
from marketplace.models import Offer
from tests.conftest import csrf_token_from, login
from tests.marketplace.test_failures_redis import own_redis  # noqa: F401 (fixture)
from tests.marketplace.test_ops import closed_port


class Clock:
    """A monotonic clock the test moves by hand (no sleeping, no timed test)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cached(app):
    """The shared test app with the page cache switched on (per process, a clock of the test's own)."""
    saved = app.extensions[page_cache.EXTENSION]
    cache = page_cache.PageCache(SimpleNamespace(config={"PAGE_CACHE": "on", "PAGE_CACHE_TTL": 30}))
    cache.store.clock = Clock()
    app.extensions[page_cache.EXTENSION] = cache
    yield cache
    app.extensions[page_cache.EXTENSION] = saved


def _state(response) -> str | None:
    return response.headers.get(page_cache.HEADER)


def _without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


def test_visitors_share_a_page_but_each_gets_their_own_csrf_token(app, csrf_app, cached, make):
    offer = make.offer(make.org(), title_zh="共享页面的呼吸机")
    first, second = app.test_client(), app.test_client()
    miss = first.get(f"/offers/{offer}")
    hit = second.get(f"/offers/{offer}")
    assert (_state(miss), _state(hit)) == ("miss", "hit")
    assert "共享页面的呼吸机" in hit.get_data(as_text=True)
    assert _without_tokens(miss.get_data(as_text=True)) == _without_tokens(hit.get_data(as_text=True))
    first_token, second_token = csrf_token_from(miss.get_data(as_text=True)), csrf_token_from(hit.get_data(as_text=True))
    assert first_token != second_token and page_cache.CSRF_PLACEHOLDER not in hit.get_data(as_text=True)
    # the token served from the cache is the second visitor's own: their language switch goes through
    switched = second.post(f"/lang/en?next=/offers/{offer}", data={"csrf_token": second_token})
    assert switched.status_code == 302
    # ... and someone else's token is refused as before
    refused = app.test_client()
    refused.get("/")
    assert refused.post("/lang/en", data={"csrf_token": second_token}).status_code == 400


def test_logged_in_people_never_get_or_leave_a_cached_page(app, cached, make):
    org, _user, email = make.member()
    offer = make.offer(org, title_zh="成员与访客")
    visitor = app.test_client()
    assert _state(visitor.get(f"/offers/{offer}")) == "miss"
    member = app.test_client()
    login(member, email)
    page = member.get(f"/offers/{offer}")
    assert _state(page) is None  # served fresh
    html = page.get_data(as_text=True)
    assert 'id="nav-account"' in html
    # the member's page (their name, their menu) never reaches a visitor
    again = app.test_client().get(f"/offers/{offer}")
    assert _state(again) == "hit" and 'id="nav-account"' not in again.get_data(as_text=True)
    # and a member opening a page first stores nothing
    second = make.offer(org, title_zh="成员先看")
    assert _state(member.get(f"/offers/{second}")) is None
    assert _state(app.test_client().get(f"/offers/{second}")) == "miss"


def test_the_language_is_part_of_the_key(app, cached, make):
    offer = make.offer(make.org(), title_zh="中文标题", title_en="English title")
    chinese, english = app.test_client(), app.test_client()
    english.get("/lang/en")
    assert _state(chinese.get(f"/offers/{offer}")) == "miss"
    page = english.get(f"/offers/{offer}")
    assert _state(page) == "miss" and '<html lang="en">' in page.get_data(as_text=True)
    assert "English title" in page.get_data(as_text=True)
    hit_zh, hit_en = app.test_client().get(f"/offers/{offer}"), english.get(f"/offers/{offer}")
    assert (_state(hit_zh), _state(hit_en)) == ("hit", "hit")
    assert '<html lang="zh-Hans">' in hit_zh.get_data(as_text=True)
    assert '<html lang="en">' in hit_en.get_data(as_text=True)


def test_a_flashed_message_is_shown_to_its_visitor_only(app, cached, make):
    make.offer(make.org())
    visitor = app.test_client()
    with visitor.session_transaction() as session:
        session["_flashes"] = [("info", "只给这位访客的消息")]
    page = visitor.get("/")
    assert "只给这位访客的消息" in page.get_data(as_text=True) and _state(page) is None
    other = app.test_client().get("/")
    assert "只给这位访客的消息" not in other.get_data(as_text=True) and _state(other) == "miss"


def test_a_message_flashed_by_the_view_keeps_the_page_out_of_the_cache(app, cached, make, monkeypatch):
    from marketplace.queries import catalogue as catalogue_q
    from search import SearchUnavailable
    make.offer(make.org(), title_zh="降级目录")

    def down(*args, **kwargs):
        raise SearchUnavailable("down")
    monkeypatch.setattr(catalogue_q, "_from_index", down)
    degraded = app.test_client().get("/offers/")
    assert degraded.status_code == 200 and _state(degraded) == "miss"
    monkeypatch.undo()
    fresh = app.test_client().get("/offers/")
    assert _state(fresh) == "miss" and "alert-warning" not in fresh.get_data(as_text=True)


def test_a_change_to_an_offer_shows_at_once(app, cached, make):
    offer = make.offer(make.org(), title_zh="旧标题呼吸机")
    visitor = app.test_client()
    assert _state(visitor.get(f"/offers/{offer}")) == "miss"
    assert _state(visitor.get(f"/offers/{offer}")) == "hit"
    with app.app_context():
        db.session.get(Offer, offer).title_zh = "新标题呼吸机"
        db.session.commit()  # the commit empties the cache
    page = visitor.get(f"/offers/{offer}")
    assert _state(page) == "miss" and "新标题呼吸机" in page.get_data(as_text=True)


def test_changes_the_pages_do_not_show_keep_the_cache(app, cached, make):
    from marketplace.services import search_terms
    make.offer(make.org())
    visitor = app.test_client()
    assert _state(visitor.get("/")) == "miss"
    with app.app_context():
        search_terms.count_search("呼吸机")  # bookkeeping, not on any cached page
        db.session.commit()
    assert _state(visitor.get("/")) == "hit"


def test_a_page_expires_after_its_time_to_live(app, cached, make):
    offer = make.offer(make.org(), title_zh="过期前")
    visitor = app.test_client()
    visitor.get(f"/offers/{offer}")
    with app.app_context():  # a change the listener cannot see (a bulk statement): only the TTL refreshes it
        db.session.execute(Offer.__table__.update().where(Offer.id == offer).values(title_zh="过期后"))
        db.session.commit()
    cached.store.clock.now += cached.ttl - 1
    assert "过期前" in visitor.get(f"/offers/{offer}").get_data(as_text=True)
    cached.store.clock.now += 2
    page = visitor.get(f"/offers/{offer}")
    assert _state(page) == "miss" and "过期后" in page.get_data(as_text=True)


def test_switched_off_nothing_is_cached(app, make):
    make.offer(make.org())
    visitor = app.test_client()
    assert _state(visitor.get("/")) is None and _state(visitor.get("/")) is None


def test_only_successful_pages_are_kept(app, cached):
    visitor = app.test_client()
    assert visitor.get("/offers/2147483000").status_code == 404
    assert _state(visitor.get("/offers/2147483000")) is None


def test_workers_share_pages_and_invalidations_through_redis(app, own_redis, make):  # noqa: F811
    offer = make.offer(make.org(), title_zh="两个进程")
    settings = SimpleNamespace(config={"PAGE_CACHE": "on", "PAGE_CACHE_TTL": 30, "REDIS_URL": own_redis.url})
    worker_a, worker_b = page_cache.PageCache(settings), page_cache.PageCache(settings)
    saved = app.extensions[page_cache.EXTENSION]
    try:
        app.extensions[page_cache.EXTENSION] = worker_a
        assert _state(app.test_client().get(f"/offers/{offer}")) == "miss"
        app.extensions[page_cache.EXTENSION] = worker_b
        hit = app.test_client().get(f"/offers/{offer}")
        assert _state(hit) == "hit" and "两个进程" in hit.get_data(as_text=True)
        with app.app_context():
            db.session.get(Offer, offer).title_zh = "改过的标题"
            db.session.commit()  # invalidated through worker B's store: worker A sees it too
        app.extensions[page_cache.EXTENSION] = worker_a
        page = app.test_client().get(f"/offers/{offer}")
        assert _state(page) == "miss" and "改过的标题" in page.get_data(as_text=True)
    finally:
        app.extensions[page_cache.EXTENSION] = saved


def test_workers_with_memory_stores_share_invalidations_through_the_instance_stamp(app, make, tmp_path):
    offer = make.offer(make.org(), title_zh="两个进程无缓存服务")
    settings = SimpleNamespace(config={"PAGE_CACHE": "on", "PAGE_CACHE_TTL": 30, "INSTANCE_DIR": str(tmp_path),
                                       "PAGE_CACHE_STORE": "memory"})
    worker_a, worker_b = page_cache.PageCache(settings), page_cache.PageCache(settings)
    assert isinstance(worker_a.store, page_cache.MemoryStore)
    saved = app.extensions[page_cache.EXTENSION]
    try:
        for worker in (worker_a, worker_b):  # each process keeps its own copy
            app.extensions[page_cache.EXTENSION] = worker
            assert _state(app.test_client().get(f"/offers/{offer}")) == "miss"
            assert _state(app.test_client().get(f"/offers/{offer}")) == "hit"
        with app.app_context():
            db.session.get(Offer, offer).title_zh = "另一个进程改的"
            db.session.commit()  # committed in worker B: worker A's copy is not served any more
        app.extensions[page_cache.EXTENSION] = worker_a
        page = app.test_client().get(f"/offers/{offer}")
        assert _state(page) == "miss" and "另一个进程改的" in page.get_data(as_text=True)
    finally:
        app.extensions[page_cache.EXTENSION] = saved


def test_offer_and_need_pages_are_kept_longer_than_lists(app, make):
    org = make.org()
    offer, need = make.offer(org), make.need(org)
    cache = page_cache.PageCache(SimpleNamespace(config={"PAGE_CACHE": "on", "PAGE_CACHE_TTL": 5,
                                                         "PAGE_CACHE_ITEM_TTL": 60}))
    cache.store.clock = Clock()
    saved = app.extensions[page_cache.EXTENSION]
    try:
        app.extensions[page_cache.EXTENSION] = cache
        visitor = app.test_client()
        paths = ["/offers/", f"/offers/{offer}", f"/needs/{need}"]
        assert [_state(visitor.get(p)) for p in paths] == ["miss"] * 3
        cache.store.clock.now += 30
        assert [_state(visitor.get(p)) for p in paths] == ["miss", "hit", "hit"]
        cache.store.clock.now += 31
        assert [_state(visitor.get(p)) for p in paths[1:]] == ["miss", "miss"]
    finally:
        app.extensions[page_cache.EXTENSION] = saved


def test_redis_down_serves_every_page_fresh(app, make):
    offer = make.offer(make.org(), title_zh="缓存不可用")
    down = page_cache.PageCache(SimpleNamespace(config={
        "PAGE_CACHE": "on", "PAGE_CACHE_TTL": 30, "REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0"}))
    saved = app.extensions[page_cache.EXTENSION]
    app.extensions[page_cache.EXTENSION] = down
    try:
        for _ in range(2):
            page = app.test_client().get(f"/offers/{offer}")
            assert page.status_code == 200 and "缓存不可用" in page.get_data(as_text=True)
            assert _state(page) is None or _state(page) == "miss"
    finally:
        app.extensions[page_cache.EXTENSION] = saved


def test_facet_counts_are_kept_per_visibility_and_forgotten_on_a_change(app, cached, make):
    from marketplace import visibility
    from marketplace.queries import catalogue as catalogue_q
    org = make.org()
    make.offer(org, kind="product")
    with app.test_request_context("/"):
        first = catalogue_q.list_offers(visibility.ANONYMOUS, facets=["kind"], page=1, per_page=5)
        assert first.facets["kind"] == {"product": 1}
        parts = {"q": "", "filters": {}, "facets": ["kind"], "tokens": visibility.viewer_tokens(visibility.ANONYMOUS)}
        assert page_cache.recall("offer-facets", parts) == {"kind": {"product": 1}}
        # another set of visibility tokens (an operator's) never reads the visitor's counts
        assert page_cache.recall("offer-facets", {**parts, "tokens": ["public", "role:operator"]}) is None
    make.offer(org, kind="product")  # the commit forgets the kept counts
    with app.test_request_context("/"):
        again = catalogue_q.list_offers(visibility.ANONYMOUS, facets=["kind"], page=2, per_page=5)
        assert again.facets["kind"] == {"product": 2}

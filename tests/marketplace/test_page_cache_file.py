"""The page cache without Redis: one SQLite file in the instance directory shared by the workers of a machine.

Two ``PageCache`` objects on one instance directory stand for two gunicorn workers (each opens its own
connection to the file). A page drawn by one is served by the other, a change shows at once in both, and the
file failing in any way serves the page fresh (never an error)."""
from __future__ import annotations

import sqlite3
from types import SimpleNamespace

import pytest

from marketplace import page_cache
from marketplace.extensions import db
from marketplace.models import Offer
from marketplace.page_cache_file import FILE_NAME, FileStore
from tests.marketplace.test_page_cache import Clock, _state


def _worker(instance) -> page_cache.PageCache:
    return page_cache.PageCache(SimpleNamespace(config={"PAGE_CACHE": "on", "PAGE_CACHE_TTL": 5,
                                                        "PAGE_CACHE_ITEM_TTL": 60, "INSTANCE_DIR": str(instance)}))


@pytest.fixture
def use(app):
    """``use(cache)``: the app serves with ``cache`` (one worker's) until the next call; restored at the end."""
    saved = app.extensions[page_cache.EXTENSION]

    def switch(cache):
        app.extensions[page_cache.EXTENSION] = cache
        return cache
    yield switch
    app.extensions[page_cache.EXTENSION] = saved


def test_without_redis_the_store_is_the_instance_file(tmp_path):
    cache = _worker(tmp_path)
    assert isinstance(cache.store, FileStore) and cache.store.path == tmp_path / FILE_NAME
    assert not (tmp_path / FILE_NAME).exists()  # nothing opened while the app is created (workers fork after)


def test_workers_share_pages_through_the_instance_file(app, make, use, tmp_path):
    org = make.org()
    offer, need = make.offer(org, title_zh="两个工作进程共享"), make.need(org, title_zh="共享的需求")
    worker_a, worker_b = _worker(tmp_path), _worker(tmp_path)
    use(worker_a)
    assert [_state(app.test_client().get(p)) for p in (f"/offers/{offer}", f"/needs/{need}")] == ["miss", "miss"]
    use(worker_b)
    pages = [app.test_client().get(p) for p in (f"/offers/{offer}", f"/needs/{need}")]
    assert [_state(p) for p in pages] == ["hit", "hit"]
    assert "两个工作进程共享" in pages[0].get_data(as_text=True) and "共享的需求" in pages[1].get_data(as_text=True)


def test_a_change_committed_in_one_worker_shows_in_the_other(app, make, use, tmp_path):
    offer = make.offer(make.org(), title_zh="改之前")
    worker_a, worker_b = _worker(tmp_path), _worker(tmp_path)
    use(worker_a)
    assert _state(app.test_client().get(f"/offers/{offer}")) == "miss"
    use(worker_b)
    assert _state(app.test_client().get(f"/offers/{offer}")) == "hit"
    with app.app_context():
        db.session.get(Offer, offer).title_zh = "改之后"
        db.session.commit()  # committed in worker B
    use(worker_a)
    page = app.test_client().get(f"/offers/{offer}")
    assert _state(page) == "miss" and "改之后" in page.get_data(as_text=True)
    use(worker_b)
    again = app.test_client().get(f"/offers/{offer}")
    assert _state(again) == "hit" and "改之后" in again.get_data(as_text=True)


def test_pages_expire_after_their_time_to_live(app, make, use, tmp_path):
    org = make.org()
    offer, need = make.offer(org), make.need(org)
    cache = use(_worker(tmp_path))
    clock = cache.store.clock = Clock()
    visitor = app.test_client()
    paths = ["/offers/", f"/offers/{offer}", f"/needs/{need}"]
    assert [_state(visitor.get(p)) for p in paths] == ["miss"] * 3
    clock.now += 30
    assert [_state(visitor.get(p)) for p in paths] == ["miss", "hit", "hit"]
    clock.now += 31
    assert [_state(visitor.get(p)) for p in paths[1:]] == ["miss", "miss"]


def test_a_page_is_not_stored_while_another_worker_writes(app, make, use, tmp_path):
    offer = make.offer(make.org(), title_zh="写锁被占用")
    cache = use(_worker(tmp_path))
    assert _state(app.test_client().get("/offers/")) == "miss"  # the file exists now
    other = sqlite3.connect(tmp_path / FILE_NAME, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another worker holds the write lock
    try:
        for _ in range(2):
            page = app.test_client().get(f"/offers/{offer}")
            assert page.status_code == 200 and _state(page) == "miss" and "写锁被占用" in page.get_data(as_text=True)
        assert _state(app.test_client().get("/offers/")) == "hit"  # reading goes on meanwhile
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert _state(app.test_client().get(f"/offers/{offer}")) == "miss"
    assert _state(app.test_client().get(f"/offers/{offer}")) == "hit"
    assert cache._down_until == 0.0  # a busy file is no failure


def test_a_failing_file_serves_pages_fresh(app, make, use, tmp_path):
    offer = make.offer(make.org(), title_zh="缓存文件坏了")
    (tmp_path / FILE_NAME).mkdir()  # the file cannot be opened at all
    use(_worker(tmp_path))
    for _ in range(2):
        page = app.test_client().get(f"/offers/{offer}")
        assert page.status_code == 200 and "缓存文件坏了" in page.get_data(as_text=True)
        assert _state(page) is None or _state(page) == "miss"
    with app.app_context():  # a commit's invalidation does not fail either
        db.session.get(Offer, offer).title_zh = "还是新的"
        db.session.commit()
    assert "还是新的" in app.test_client().get(f"/offers/{offer}").get_data(as_text=True)


def test_an_error_while_reading_serves_the_page_fresh(app, make, use, tmp_path, monkeypatch):
    need = make.need(make.org(), title_zh="读取出错")
    cache = use(_worker(tmp_path))

    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")
    monkeypatch.setattr(cache.store, "get", broken)
    page = app.test_client().get(f"/needs/{need}")
    assert page.status_code == 200 and "读取出错" in page.get_data(as_text=True) and _state(page) != "hit"


def test_a_damaged_file_is_replaced(tmp_path):
    (tmp_path / FILE_NAME).write_bytes(b"not a database at all" * 100)
    store = FileStore(tmp_path / FILE_NAME, tmp_path / page_cache.GENERATION_FILE)
    store.set("k", b"page", 30)
    assert store.get("k") == b"page"


def test_the_file_keeps_at_most_its_limit_and_drops_expired_rows(tmp_path):
    store = FileStore(tmp_path / FILE_NAME, tmp_path / page_cache.GENERATION_FILE, limit=3)
    store.clock = Clock()
    for i in range(5):
        store.set(f"k{i}", b"x", 10 + i)
    store.prune()
    assert [store.get(f"k{i}") for i in range(5)] == [None, None, b"x", b"x", b"x"]
    store.clock.now += 13
    store.prune()
    count = sqlite3.connect(tmp_path / FILE_NAME).execute("SELECT count(*) FROM pages").fetchone()[0]
    assert count == 1 and store.get("k4") == b"x"


def test_simultaneous_writers_never_raise(tmp_path):
    import threading
    store = FileStore(tmp_path / FILE_NAME, tmp_path / page_cache.GENERATION_FILE, limit=50)
    errors: list[BaseException] = []

    def work(n: int) -> None:  # each thread has its own connection, as each worker process does
        try:
            for i in range(150):
                store.set(f"k{(n * 7 + i) % 60}", b"page %d" % i, 30)
                store.get(f"k{i % 60}")
                if i % 50 == 0:
                    store.prune()
                    store.invalidate()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_two_apps_on_one_instance_directory_share_pages_and_changes(app, make, tmp_path):
    """Two app objects, as two gunicorn workers build them (each its own engine, cache and connections)."""
    from marketplace import create_app
    offer = make.offer(make.org(), title_zh="两个应用共享")

    def worker():
        return create_app("testing", overrides={
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "INSTANCE_DIR": str(tmp_path),
            "MEILI_URL": None, "REDIS_URL": None, "PAGE_CACHE": "on", "PAGE_CACHE_TTL": 5})
    worker_a, worker_b = worker(), worker()
    try:
        assert _state(worker_a.test_client().get(f"/offers/{offer}")) == "miss"
        hit = worker_b.test_client().get(f"/offers/{offer}")
        assert _state(hit) == "hit" and "两个应用共享" in hit.get_data(as_text=True)
        with worker_b.app_context():
            db.session.get(Offer, offer).title_zh = "改过了"
            db.session.commit()  # worker B's commit renews the stamp both read
        page = worker_a.test_client().get(f"/offers/{offer}")
        assert _state(page) == "miss" and "改过了" in page.get_data(as_text=True)
    finally:
        for worker_app in (worker_a, worker_b):
            with worker_app.app_context():
                db.session.remove()
                db.engine.dispose()

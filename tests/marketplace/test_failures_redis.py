"""Redis down (rate-limit storage and job queue): requests still succeed, no acknowledged job is lost, and
needs whose ranking job vanished with the queue are ranked by the next sweep."""
from __future__ import annotations

import shutil
import subprocess
import time

import pytest
from sqlalchemy import func, select

from marketplace import create_app, jobs
from marketplace.extensions import db, limiter
from marketplace.models import MatchSuggestion, Need, SearchOutboxEntry, User
from marketplace.services import api_tokens
from tests.conftest import TEST_PASSWORD, login
from tests.factories import Factory
from tests.marketplace.test_matching_site import _catalogue, _rebuild
from tests.marketplace.test_ops import closed_port


class RedisProcess:
    """A Redis of our own on a free port, without persistence: stopping it loses every queued job."""

    def __init__(self):
        self.port = closed_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                         "--save", "", "--appendonly", "no"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        from redis import Redis
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                Redis.from_url(self.url).ping()
                return
            except Exception:  # not up yet
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def own_redis():
    pytest.importorskip("redis")
    if shutil.which("redis-server") is None:
        pytest.skip("no redis-server binary")
    process = RedisProcess()
    process.start()
    yield process
    process.stop()


@pytest.fixture
def redis_app_for(app, monkeypatch):
    """redis_app_for(url): the shared test database with REDIS_URL (queue and rate-limit storage) at ``url``."""
    monkeypatch.setattr(jobs, "QUEUE_NAME", "techbridge-failures-test")

    def build(url: str):
        redis_app = create_app("testing", overrides={
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "INSTANCE_DIR": app.config["INSTANCE_DIR"],
            "REDIS_URL": url, "RATELIMIT_STORAGE_URI": url, "MEILI_URL": None})
        redis_app.config["PROPAGATE_TEST_ERRORS"] = False  # count 500s as production would answer them
        return redis_app
    yield build
    limiter.init_app(app)  # the limiter is one object: give the shared app its in-memory storage back


def _unranked_open_needs(session) -> int:
    ranked = select(MatchSuggestion.id).where(MatchSuggestion.need_id == Need.id)
    return session.scalar(select(func.count(Need.id)).where(Need.status == "open", ~ranked.exists()))


def test_with_redis_down_every_request_succeeds_and_no_job_is_lost(app, make, redis_app_for):
    _catalogue(make)
    hospital, nurse, email = make.member("hospital")
    _rebuild(app)
    with app.app_context():
        _token, secret = api_tokens.create_token(db.session.get(User, nurse), {"name": "t", "scope": "write"})
        db.session.commit()
    down = redis_app_for(f"redis://127.0.0.1:{closed_port()}/0")
    client = down.test_client()
    replies = [login(client, email)]
    replies += [client.get("/search/?q=呼吸机"), client.get("/search/suggest?q=呼吸"), client.get("/offers/"),
                client.get("/api/v1/offers/")]
    for i in range(3):
        replies.append(client.post("/needs/new?kind=procurement", data={
            "title_zh": f"紧急采购有创呼吸机{i}", "description_zh": "ICU", "tags": "呼吸机"}))
        replies.append(client.post("/api/v1/needs/", json={"organization_id": hospital, "kind": "procurement",
                                                            "title_zh": f"接口采购呼吸机{i}", "tags": ["呼吸机"]},
                                   headers={"Authorization": f"Bearer {secret}"}))
    codes = [r.status_code for r in replies]
    assert codes.count(500) == 0, codes
    assert codes == [302, 200, 200, 200, 200] + [302, 201] * 3
    with down.app_context():
        assert db.session.scalar(select(func.count(Need.id))) == 6  # each write saved once
        assert db.session.scalar(select(func.count(SearchOutboxEntry.id)).where(
            SearchOutboxEntry.done_at.is_(None))) == 0  # the relay ran here instead of on the queue
        assert _unranked_open_needs(db.session) == 0  # so did each need's ranking


def test_needs_whose_ranking_job_vanished_with_redis_are_ranked_by_the_sweep(app, make, own_redis, redis_app_for):
    _catalogue(make)
    hospital, _, email = make.member("hospital")
    _rebuild(app)
    queued = redis_app_for(own_redis.url)
    client = queued.test_client()
    login(client, email)
    for i in range(3):
        assert client.post("/needs/new?kind=procurement", data={
            "title_zh": f"排队采购有创呼吸机{i}", "description_zh": "ICU", "tags": "呼吸机"}).status_code == 302
    with queued.app_context():
        assert _unranked_open_needs(db.session) == 3  # queued for a worker that never came
    own_redis.stop()  # ... and the queue is gone with its jobs
    result = queued.test_cli_runner().invoke(args=["brokering", "sweep"])
    assert result.exit_code == 0, result.output
    with queued.app_context():
        assert _unranked_open_needs(db.session) == 0
        first = db.session.scalar(select(MatchSuggestion).join(Need, Need.id == MatchSuggestion.need_id)
                                  .where(Need.title_zh == "排队采购有创呼吸机0").order_by(MatchSuggestion.rank))
        assert first.offer.title_zh == "ICU有创呼吸机"

"""The job runner: in-process after the commit without Redis, RQ workers with REDIS_URL."""
import uuid

import pytest
from sqlalchemy import func, select

from marketplace import create_app, jobs, search_index
from marketplace.extensions import db
from marketplace.models import SearchOutboxEntry
from tests.conftest import TEST_PASSWORD
from tests.factories import Factory


def test_jobs_do_not_run_when_the_unit_of_work_rolls_back(app):
    from marketplace.services.unit_of_work import unit_of_work
    ran = []
    jobs.REGISTRY["test.record"] = lambda **kw: ran.append(kw)
    with app.app_context():
        with pytest.raises(ValueError):
            with unit_of_work() as session:
                jobs.enqueue(session, "test.record", x=1)
                raise ValueError
        with unit_of_work() as session:
            jobs.enqueue(session, "test.record", x=2)
            jobs.enqueue(session, "test.record", x=2)  # deduplicated
    assert ran == [{"x": 2}]


@pytest.fixture
def redis_url():
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return url


def test_with_redis_jobs_go_to_rq_and_a_worker_runs_them(app, redis_url, monkeypatch):
    from redis import Redis
    from rq import Queue

    monkeypatch.setenv("TECHBRIDGE_ENV", "testing")
    monkeypatch.setenv("DATABASE_URL", app.config["SQLALCHEMY_DATABASE_URI"])
    monkeypatch.setenv("REDIS_URL", redis_url)
    queue_name = f"techbridge-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(jobs, "QUEUE_NAME", queue_name)
    rq_app = create_app("testing", overrides={"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                                               "REDIS_URL": redis_url, "INSTANCE_DIR": app.config["INSTANCE_DIR"]})
    make = Factory(rq_app, TEST_PASSWORD)
    org = make.org("firm")
    offer = make.offer(org, title_zh="排队索引的产品")
    connection = Redis.from_url(redis_url)
    queue = Queue(queue_name, connection=connection)
    try:
        assert queue.count >= 1  # the relay was queued, not run in-process
        with rq_app.app_context():
            pending = db.session.scalar(select(func.count(SearchOutboxEntry.id)).where(
                SearchOutboxEntry.done_at.is_(None)))
            assert pending >= 1
        result = rq_app.test_cli_runner().invoke(args=["worker", "--burst"])  # one app context, every job
        assert result.exit_code == 0, result.output
        with rq_app.app_context():
            assert db.session.scalar(select(func.count(SearchOutboxEntry.id)).where(
                SearchOutboxEntry.done_at.is_(None))) == 0
            assert str(offer) in search_index.backend().all_ids("offers")
    finally:
        queue.delete(delete_jobs=True)

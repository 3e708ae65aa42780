"""Site rebuilds: publishing adds offers to the saved model (equal to a refit), sharded ranking on RQ workers."""
import os
import uuid

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import MatchSuggestion, Offer
from marketplace.services import matching as matching_service
from marketplace.services.matching_rebuild import staging_dir
from marketplace.settings import current_settings
from matching.shards import collect_shards, enqueue_shards

WORDS = ("呼吸机", "监护仪", "输液泵", "除颤仪", "口罩", "试剂盒")


def _world(make):
    makers = [make.org("firm", name=f"器械厂{i}") for i in range(3)]
    for i, word in enumerate(WORDS):
        make.offer(makers[i % 3], title_zh=f"医用{word}", summary_zh=f"{word} 重症病房", tags=[word])
    hospital, _, _ = make.member("hospital")
    for word in WORDS[:4]:
        make.need(hospital, title_zh=f"采购{word}", description_zh=f"需要{word}", tags=[word])
    return makers, hospital


def _suggestions(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.scalars(select(MatchSuggestion).order_by(MatchSuggestion.need_id, MatchSuggestion.rank,
                                                                   MatchSuggestion.offer_id))
        return [(s.need_id, s.offer_id, s.rank, s.score, s.parts, s.reasons, s.strength, s.similar_to_offer_id)
                for s in rows]


def _run(app, full: bool) -> dict:
    with app.app_context():
        from marketplace.tasks import matching
        return matching.run_rebuild(full=full)


def test_publishing_a_batch_adds_offers_with_the_suggestions_of_a_refit(app, make):
    makers, _ = _world(make)
    assert _run(app, full=True)["fit"] == "refit"
    batch = [make.offer(makers[0], title_zh=f"新款便携{word}", summary_zh=f"便携 {word}", tags=[word])
             for word in WORDS[:3]]
    summary = _run(app, full=False)
    assert summary["fit"] == "added" and summary["offers"] == len(WORDS) + 3
    added = _suggestions(app)
    assert {row[1] for row in added} & set(batch)  # the new offers are suggested
    assert _run(app, full=True)["fit"] == "refit"
    assert _suggestions(app) == added  # same pairings, scores, reasons and strengths as a full refit
    with app.app_context():
        model = current_settings().matching_model_dir
        assert (model / "manifest.json").exists() and not staging_dir(model).exists()


def test_an_archived_offer_makes_the_refresh_refit(app, make):
    _world(make)
    _run(app, full=True)
    with app.app_context():
        db.session.scalars(select(Offer)).first().status = "archived"
        db.session.commit()
    assert _run(app, full=False)["fit"] == "refit"


@pytest.fixture
def redis_url():
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("no Redis on 127.0.0.1:6379")
    return url


def test_sharded_rebuild_on_rq_workers_equals_one_process(app, make, redis_url):
    from redis import Redis
    from rq import Queue, SimpleWorker

    _world(make)
    # Words and graph only: the semantic channel encodes needs in batches, and a batch's padding moves the last
    # digit of a cosine, so with it shards agree to 1e-6 rather than exactly.
    with app.app_context():
        from marketplace.services.unit_of_work import unit_of_work
        from marketplace.tasks import matching as tasks
        with unit_of_work():
            matching_service.rebuild(current_settings().matching_model_dir, tasks.shard_runner(None), full=True)
    single = _suggestions(app)
    connection = Redis.from_url(redis_url)
    queue = Queue(f"matching-rebuild-{uuid.uuid4().hex[:8]}", connection=connection)
    shard_sizes = []

    def on_workers(model_dir, needs, top_k):
        jobs = enqueue_shards(queue, model_dir, needs, 2, top_k)
        shard_sizes.extend(len(job.args[1]) for job in jobs)
        SimpleWorker([queue], connection=connection).work(burst=True)  # the listening worker ranks both shards
        return collect_shards(jobs, timeout=120)

    try:
        with app.app_context():
            from marketplace.services.unit_of_work import unit_of_work
            with unit_of_work():
                _, staged = matching_service.rebuild(current_settings().matching_model_dir, on_workers, full=True)
            assert staged
    finally:
        queue.delete(delete_jobs=True)
    assert shard_sizes == [2, 2]
    assert _suggestions(app) == single


def test_shard_runner_uses_this_process_without_redis_or_workers(app, make, monkeypatch):
    from marketplace.tasks import matching as tasks
    _world(make)
    _run(app, full=True)
    with app.app_context():
        model = current_settings().matching_model_dir
        needs = [{"id": "x", "title": "采购呼吸机"}]
        alone = tasks.shard_runner(None)(model, needs, 5)
        monkeypatch.setattr(tasks, "listening_workers", lambda queue: 0)
        assert tasks.shard_runner("redis://127.0.0.1:6379/15")(model, needs, 5) == alone
        assert alone[0]["matches"]


def test_rebuild_command_refits_and_add_only_adds(app, make):
    makers, _ = _world(make)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["matching", "rebuild"])
    assert result.exit_code == 0 and "ranked 4 open needs against 6 published offers (refitted)" in result.output
    make.offer(makers[1], title_zh="新款监护仪", tags=["监护仪"])
    result = runner.invoke(args=["matching", "rebuild", "--add-only"])
    assert result.exit_code == 0 and "7 published offers (new offers added to the fitted model)" in result.output

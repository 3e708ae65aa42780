"""Matching jobs: add published offers or refit, re-rank every open need in shards, rank one need; then
announce strong matches and alerts."""
from __future__ import annotations

import logging

from flask import current_app

from marketplace import jobs
from marketplace.services import matching, matching_rebuild
from marketplace.services.matching import FULL_REBUILD_JOB, RANK_NEED_JOB, RANK_UNRANKED_JOB, REBUILD_JOB
from marketplace.services.unit_of_work import unit_of_work
from marketplace.settings import current_settings
from marketplace.tasks.alerts import after_matching
from marketplace.tasks.base import task
from matching.shards import ShardFailed, rank_on_queue, rank_shard

log = logging.getLogger(__name__)
SHARD_TIMEOUT_SECONDS = 3600


def listening_workers(queue) -> int:
    """RQ workers listening on ``queue`` (one per core on each worker machine)."""
    from rq import Worker
    return len(Worker.all(queue=queue))


def shard_runner(redis_url: str | None):
    """``rank_needs`` for ``services.matching.rebuild``: one shard per RQ worker listening on the job queue
    (this process ranks one of them when it is itself a worker), or all needs here without Redis or workers."""
    def rank_needs(model_dir, needs: list[dict], top_k: int) -> list[dict]:
        if redis_url and needs:
            from redis import Redis
            from redis.exceptions import RedisError
            from rq import Queue, get_current_job
            try:
                connection = Redis.from_url(redis_url, socket_connect_timeout=jobs.BROKER_TIMEOUT_SECONDS)
                queue = Queue(jobs.QUEUE_NAME, connection=connection)
                workers = listening_workers(queue)
                inside_worker = get_current_job() is not None
                if workers > (1 if inside_worker else 0):
                    return rank_on_queue(queue, model_dir, needs, workers, top_k, local_shard=inside_worker,
                                         timeout=SHARD_TIMEOUT_SECONDS)
            except (RedisError, OSError) as exc:
                log.warning("job queue unreachable (%s): ranking every shard in this process", exc)
        return rank_shard(str(model_dir), needs, top_k)
    return rank_needs


def run_rebuild(full: bool) -> dict:
    """Fit (``full``) or add new offers, rank in shards, commit, then install the model the shards used."""
    settings = current_settings()
    runner = shard_runner(current_app.config.get("REDIS_URL"))
    try:
        with unit_of_work():
            summary, staged = matching.rebuild(settings.matching_model_dir, runner,
                                               semantic=settings.matching_semantic, full=full)
    except ShardFailed:
        log.exception("a shard of the matching rebuild failed; the previous suggestions stay")
        raise
    if staged:
        matching_rebuild.install_model(settings.matching_model_dir)
        after_matching()
    return summary


@jobs.job(REBUILD_JOB)
def rebuild() -> dict:
    """After a batch is published (or a deal recorded): add the new offers to the saved model when that equals a
    refit, otherwise refit; re-rank every open need."""
    return run_rebuild(full=False)


@jobs.job(FULL_REBUILD_JOB)
def full_rebuild() -> dict:
    """Refit on every published offer (and learn from feedback), re-rank every open need: on schedule."""
    return run_rebuild(full=True)


@jobs.job(RANK_NEED_JOB, coalesce_into=REBUILD_JOB, coalesce_above=20)
def rank_need(need_id: int) -> int:
    """Rank one new or changed need against the saved model, without refitting."""
    settings = current_settings()
    with unit_of_work():
        ranked = matching.rank_need(need_id, settings.matching_model_dir)
    if ranked:
        after_matching([need_id])
    return ranked


@task(RANK_UNRANKED_JOB)
def rank_unranked() -> dict:
    """Rank open needs that have no suggestions yet (their job was lost with the queue): part of the sweep."""
    return {"needs_ranked": matching.queue_unranked(current_settings().matching_model_dir)}

"""Matching jobs: refit and re-rank everything, rank one need; then announce strong matches and alerts."""
from __future__ import annotations

from marketplace import jobs
from marketplace.services import matching
from marketplace.services.matching import RANK_NEED_JOB, RANK_UNRANKED_JOB, REBUILD_JOB
from marketplace.services.unit_of_work import unit_of_work
from marketplace.settings import current_settings
from marketplace.tasks.alerts import after_matching
from marketplace.tasks.base import task


@jobs.job(REBUILD_JOB)
def rebuild() -> dict:
    """Refit on published offers, re-rank every open need; save the model once the pairings are committed."""
    settings = current_settings()
    with unit_of_work():
        summary, engine = matching.rebuild(semantic=settings.matching_semantic)
    if engine is not None:
        matching.save_engine(engine, settings.matching_model_dir)
        after_matching()
    return summary


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

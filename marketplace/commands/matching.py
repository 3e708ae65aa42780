"""``flask matching``: refit the engine and re-rank every open need (on schedule: cron or a systemd timer)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace import jobs
from marketplace.services.matching import FULL_REBUILD_JOB
from marketplace.tasks import matching as matching_tasks

matching_cli = AppGroup("matching", help="Matching engine: rebuild suggestions.")


@matching_cli.command("rebuild")
@click.option("--queue", "queued", is_flag=True, help="Hand the rebuild to an RQ worker instead of running it here.")
@click.option("--add-only", is_flag=True,
              help="Only add offers published since the last fit (falls back to a refit when that would differ).")
def matching_rebuild(queued: bool, add_only: bool) -> None:
    """Refit the engine on published offers and re-rank every open need; the needs are split into shards ranked
    by the RQ workers listening on the job queue (this process ranks them all without Redis or workers)."""
    if queued:
        jobs.dispatch(matching_tasks.REBUILD_JOB if add_only else FULL_REBUILD_JOB, {})
        click.echo("rebuild queued")
        return
    result = matching_tasks.run_rebuild(full=not add_only)
    how = {"added": "new offers added to the fitted model", "refit": "refitted"}.get(result.get("fit"), "")
    click.echo(f"ranked {result['needs']} open needs against {result['offers']} published offers"
               + (f" ({how})" if how else "")
               + (" (weights learned from feedback)" if result.get("feedback_trained") else ""))

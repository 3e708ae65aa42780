"""``flask imports resume``: run again the imports whose worker or thread is gone (also part of the sweep)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace.tasks import imports as import_tasks

imports_cli = AppGroup("imports", help="Bulk imports: resume the runs interrupted by a restart.")


@imports_cli.command("resume")
@click.option("--stale-after", type=float, default=None,
              help="Seconds without progress after which a queued or running import counts as interrupted "
                   "(default IMPORT_STALE_SECONDS).")
def resume(stale_after: float | None) -> None:
    """Import, here, the rest of every import left queued or running without progress (its worker restarted,
    its thread ended with the process): each continues after the rows it committed, so no row is imported twice."""
    outcome = import_tasks.resume_stalled(stale_after)
    click.echo(f"resumed {outcome['import_runs_resumed']} imports, {outcome['import_runs_done']} done")

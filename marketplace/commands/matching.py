"""``flask matching``: refit the engine and re-rank every open need."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace.tasks import matching as matching_tasks

matching_cli = AppGroup("matching", help="Matching engine: rebuild suggestions.")


@matching_cli.command("rebuild")
def matching_rebuild() -> None:
    """Refit the engine on published offers and re-rank every open need."""
    result = matching_tasks.rebuild()
    click.echo(f"ranked {result['needs']} open needs against {result['offers']} published offers"
               + (" (weights learned from feedback)" if result.get("feedback_trained") else ""))

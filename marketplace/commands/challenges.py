"""``flask challenges``: close the challenges whose submission deadline has passed (run from cron)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace.tasks import challenges as challenge_tasks

challenges_cli = AppGroup("challenges", help="Open challenges: close those past their submission deadline.")


@challenges_cli.command("close")
def challenges_close() -> None:
    """Close every published challenge whose deadline has passed."""
    result = challenge_tasks.close_due()
    click.echo(f"closed {result['closed']} challenges")

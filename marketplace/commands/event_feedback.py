"""``flask event-feedback``: ask participants to rate events that have ended (run daily from cron)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace.services.events.reporting import FEEDBACK_REQUEST_DAYS
from marketplace.tasks import event_feedback as feedback_tasks

event_feedback_cli = AppGroup("event-feedback", help="Events: ratings asked from participants after the end.")


@event_feedback_cli.command("request")
@click.option("--days", default=FEEDBACK_REQUEST_DAYS, show_default=True,
              help="Ask about events that ended within this many days.")
def request_feedback(days: int) -> None:
    """Notify the participants of recently ended events who have not rated them yet (each person once)."""
    result = feedback_tasks.request_feedback(days=days)
    click.echo(f"asked {result['asked']} participants of {result['events']} events")

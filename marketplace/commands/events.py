"""``flask events``: reminders before roadshows and Spark events start, the sweep of 1:1 meetings."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace.tasks import events as event_tasks

events_cli = AppGroup("events", help="Events: reminders before roadshows and Spark events start.")


@events_cli.command("remind")
@click.option("--hours", default=24, show_default=True, help="Remind registrants of events starting this soon.")
def events_remind(hours: int) -> None:
    """Record a reminder for every confirmed registrant of a published event starting within --hours."""
    result = event_tasks.send_reminders(hours=hours)
    click.echo(f"reminded {result['reminded']} registrants")


@events_cli.command("sweep-meetings")
def events_sweep_meetings() -> None:
    """Lapse meeting requests left unanswered past their time and record no-shows of ended meetings (cron)."""
    expired = event_tasks.expire_meeting_requests()
    no_shows = event_tasks.record_no_shows()
    click.echo(f"expired {expired['expired']} requests, recorded {no_shows['no_shows']} no-shows")

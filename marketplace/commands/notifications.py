"""``flask notifications``: the daily e-mail digest (run once a day by cron)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace.tasks import notifications as notification_tasks

notifications_cli = AppGroup("notifications", help="Notifications: the daily e-mail digest.")


@notifications_cli.command("digest")
def notifications_digest() -> None:
    """Send every person who chose the daily digest one e-mail with what was gathered for them."""
    result = notification_tasks.send_daily_digest()
    click.echo(f"sent {result['sent']} digests, {result['failed']} failed")

"""``flask brokering sweep``: the periodic jobs of brokering, alerts and e-mail (run it from cron)."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from marketplace import jobs
from marketplace.tasks import alerts as alert_tasks
from marketplace.tasks import brokering as brokering_tasks
from marketplace.tasks import imports as import_tasks
from marketplace.tasks import matching as matching_tasks
from marketplace.tasks import notifications as notification_tasks
from marketplace.tasks import submissions as submission_tasks

brokering_cli = AppGroup("brokering", help="Brokering: expiry and reminders, due follow-ups, ratings, alerts.")
SWEEP_TASKS = (brokering_tasks.expire_and_remind, brokering_tasks.followups_due, brokering_tasks.request_ratings,
               matching_tasks.rank_unranked, alert_tasks.run, notification_tasks.send_pending_email,
               submission_tasks.prune_keys, import_tasks.resume_stalled)


@brokering_cli.command("sweep")
@click.option("--queue", "to_queue", is_flag=True,
              help="Hand the jobs to the RQ worker (REDIS_URL) instead of running them here.")
def sweep(to_queue: bool) -> None:
    """Expire unanswered introduction requests and remind those about to expire, notify due follow-ups,
    request follow-up ratings, rank open needs left without suggestions (their job lost with the queue), run
    saved-search alerts (immediate, and daily digests that are due) and send
    the e-mails waiting, forget old submission keys and resume imports whose worker is gone. Run it from cron (e.g. every 15 minutes); daily digests go out once a day."""
    if to_queue:
        if not current_app.config.get("REDIS_URL"):
            raise click.ClickException("REDIS_URL is not set: run the sweep without --queue.")
        names = [task.job_name for task in SWEEP_TASKS]
        for name in names:
            jobs.dispatch(name, {})
        click.echo(f"queued {len(names)} jobs: {', '.join(names)}")
        return
    result = brokering_tasks.expire_and_remind()
    click.echo(f"expired {result['expired']} introduction requests, reminded {result['reminded']}")
    click.echo(f"notified {brokering_tasks.followups_due()['followups_notified']} due follow-ups")
    click.echo(f"requested {brokering_tasks.request_ratings()['ratings_requested']} follow-up ratings")
    click.echo(f"ranked {matching_tasks.rank_unranked()['needs_ranked']} open needs without suggestions")
    ran = alert_tasks.run()
    click.echo(f"ran {ran['saved_searches_run']} saved searches, {ran['alerts']} with new results")
    mailed = notification_tasks.send_pending_email()
    click.echo(f"sent {mailed['sent']} e-mails ({mailed['failed']} failed)")
    click.echo(f"deleted {submission_tasks.prune_keys()['submission_keys_pruned']} old submission keys")
    click.echo(f"resumed {import_tasks.resume_stalled()['import_runs_resumed']} interrupted imports")

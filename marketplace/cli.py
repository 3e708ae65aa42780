"""Command-line groups, one per domain (``flask --app wsgi demo load``)."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

demo_cli = AppGroup("demo", help="Demo dataset.")
taxonomy_cli = AppGroup("taxonomy", help="Field taxonomy.")
search_cli = AppGroup("search", help="Search index: reindex, relay and status.")
matching_cli = AppGroup("matching", help="Matching engine: rebuild suggestions.")


@matching_cli.command("rebuild")
def matching_rebuild() -> None:
    """Refit the engine on published offers and re-rank every open need."""
    from marketplace.services import matching
    result = matching.rebuild()
    click.echo(f"ranked {result['needs']} open needs against {result['offers']} published offers"
               + (" (weights learned from feedback)" if result.get("feedback_trained") else ""))


@search_cli.command("reindex")
@click.option("--index", "index_name", type=click.Choice(["offers", "needs", "organizations"]), default=None)
def search_reindex(index_name) -> None:
    """Rebuild the index from the database (shadow index, then swap: no gap in service)."""
    from marketplace import search_index
    for name, count in search_index.reindex(index_name).items():
        click.echo(f"{name}: {count} documents")


@search_cli.command("relay")
@click.option("--now", "ignore_backoff", is_flag=True, help="Retry failed entries without waiting for their backoff.")
def search_relay(ignore_backoff: bool) -> None:
    """Deliver pending outbox entries now."""
    from marketplace import search_index
    result = {"delivered": 0, "failed": 0}
    while True:  # the relay works in chunks; drain everything that is due
        step = search_index.relay(ignore_backoff=ignore_backoff)
        result = {k: result[k] + step[k] for k in result}
        if step["delivered"] == 0 or step["failed"]:
            break
    click.echo(f"delivered {result['delivered']}, failed {result['failed']}")


@search_cli.command("status")
def search_status() -> None:
    """Show the backend, pending outbox entries and lag."""
    from marketplace import search_index
    health = search_index.health()
    status = search_index.outbox_status()
    click.echo(f"backend: {health.get('backend')} ({'ok' if health.get('ok') else 'DOWN'})")
    lag = "-" if status["lag_seconds"] is None else f"{status['lag_seconds']:.1f}s"
    click.echo(f"pending: {status['pending']} (retrying: {status['retrying']}), lag: {lag}")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
def worker(burst: bool) -> None:
    """Run an RQ worker for the job queue (needs REDIS_URL)."""
    from flask import current_app
    from redis import Redis
    from rq import Queue, Worker

    from marketplace.jobs import QUEUE_NAME
    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("REDIS_URL is not set: jobs run in-process, no worker is needed.")
    connection = Redis.from_url(url)
    Worker([Queue(QUEUE_NAME, connection=connection)], connection=connection).work(burst=burst)


@demo_cli.command("load")
@click.option("--reset-passwords", is_flag=True, help="Give the demo accounts new passwords and print them.")
def demo_load(reset_passwords: bool) -> None:
    """Load the demo dataset (idempotent) and print the demo accounts."""
    from marketplace.demo.loader import load_demo
    from marketplace.services.unit_of_work import unit_of_work
    with unit_of_work() as session:
        result = load_demo(session, reset_passwords=reset_passwords)
    if result["created"]:
        click.echo(f"Loaded demo data: {result['organizations']} organisations, {result['offers']} offers in 3 batches, "
                   f"{result['needs']} needs, 50 high-value patents, {result.get('events', 0)} events.")
    else:
        click.echo("Demo data already present; nothing added.")
    click.echo("Demo accounts (demo data only; change or remove before production):")
    for email, password, role in result["accounts"]:
        click.echo(f"  {role:<10} {email:<32} {password}")
    if result["created"]:
        from marketplace.services import matching
        click.echo("Computing match suggestions…")
        summary = matching.rebuild()
        click.echo(f"Ranked {summary['needs']} open needs against {summary['offers']} published offers.")


@demo_cli.command("load-if-empty")
@click.pass_context
def demo_load_if_empty(ctx) -> None:
    """Load the demo data only when the database has no organisations (used by ``make run``)."""
    from sqlalchemy import func, select

    from marketplace.extensions import db
    from marketplace.models import Organization
    if (db.session.scalar(select(func.count(Organization.id))) or 0) == 0:
        ctx.invoke(demo_load, reset_passwords=False)
    else:
        click.echo("Database not empty; demo data not loaded.")


@taxonomy_cli.command("load")
def taxonomy_load() -> None:
    """Insert the five key support directions and their subfields (idempotent)."""
    from marketplace.reference.taxonomy import load_taxonomy
    from marketplace.services.unit_of_work import unit_of_work
    with unit_of_work() as session:
        added = load_taxonomy(session)
    click.echo(f"{added} taxonomy nodes added.")


brokering_cli = AppGroup("brokering", help="Brokering: expiry and reminders, due follow-ups, ratings, alerts.")
SWEEP_JOBS = ("brokering.expire_and_remind", "notifications.followups_due", "notifications.rating_requests",
              "alerts.run", "notifications.send_email")


@brokering_cli.command("sweep")
@click.option("--queue", "to_queue", is_flag=True,
              help="Hand the jobs to the RQ worker (REDIS_URL) instead of running them here.")
def sweep(to_queue: bool) -> None:
    """Expire unanswered introduction requests and remind those about to expire, notify due follow-ups,
    request follow-up ratings, run saved-search alerts (immediate, and daily digests that are due) and send
    the e-mails waiting. Run it from cron (e.g. every 15 minutes); daily digests go out once a day."""
    from marketplace import jobs
    from marketplace.services import alerts, notifications
    from marketplace.services import brokering as brokering_service
    if to_queue:
        from flask import current_app
        if not current_app.config.get("REDIS_URL"):
            raise click.ClickException("REDIS_URL is not set: run the sweep without --queue.")
        for name in SWEEP_JOBS:
            jobs.dispatch(name, {})
        click.echo(f"queued {len(SWEEP_JOBS)} jobs: {', '.join(SWEEP_JOBS)}")
        return
    result = brokering_service.expire_and_remind()
    click.echo(f"expired {result['expired']} introduction requests, reminded {result['reminded']}")
    click.echo(f"notified {notifications.followups_due()['followups_notified']} due follow-ups")
    click.echo(f"requested {notifications.request_ratings()['ratings_requested']} follow-up ratings")
    ran = alerts.run()
    click.echo(f"ran {ran['saved_searches_run']} saved searches, {ran['alerts']} with new results")
    mailed = notifications.send_pending_email()
    click.echo(f"sent {mailed['sent']} e-mails ({mailed['failed']} failed)")


events_cli = AppGroup("events", help="Events: reminders before roadshows and Spark events start.")


@events_cli.command("remind")
@click.option("--hours", default=24, show_default=True, help="Remind registrants of events starting this soon.")
def events_remind(hours: int) -> None:
    """Record a reminder for every confirmed registrant of a published event starting within --hours."""
    from marketplace.services import events as events_service
    result = events_service.send_reminders(hours=hours)
    click.echo(f"reminded {result['reminded']} registrants")


def register(app: Flask) -> None:
    for group in (demo_cli, taxonomy_cli, search_cli, matching_cli, worker, brokering_cli, events_cli):
        app.cli.add_command(group)
    from marketplace import ops  # check, backup, restore, grant-role, search relay-loop
    ops.register(app)

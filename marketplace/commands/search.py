"""``flask search``: reindex, relay now, relay continuously, status."""
from __future__ import annotations

import logging
import signal
import threading

import click
from flask.cli import AppGroup

from marketplace import search_outbox
from marketplace.extensions import db
from marketplace.health_checks import describe_error
from marketplace.tasks import search as search_tasks

log = logging.getLogger(__name__)
search_cli = AppGroup("search", help="Search index: reindex, relay and status.")


@search_cli.command("reindex")
@click.option("--index", "index_name", type=click.Choice(["offers", "needs", "organizations"]), default=None)
def search_reindex(index_name) -> None:
    """Rebuild the index from the database (shadow index, then swap: no gap in service)."""
    for name, count in search_tasks.reindex(index_name).items():
        click.echo(f"{name}: {count} documents")


@search_cli.command("relay")
@click.option("--now", "ignore_backoff", is_flag=True, help="Retry failed entries without waiting for their backoff.")
def search_relay(ignore_backoff: bool) -> None:
    """Deliver pending outbox entries now."""
    result = search_tasks.drain(ignore_backoff=ignore_backoff)
    click.echo(f"delivered {result['delivered']}, failed {result['failed']}")


@search_cli.command("relay-loop")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between passes over the outbox.")
def relay_loop(interval: float) -> None:
    """Deliver due search outbox entries every --interval seconds until stopped (SIGTERM/SIGINT).

    Writes are relayed right after each commit already (by the worker with REDIS_URL); this loop retries
    entries whose delivery failed once their backoff is over, and catches any relay job that was lost.
    """
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"search relay loop: every {interval:g}s", err=True)
    while not stop.is_set():
        try:
            result = search_tasks.drain()
            if result["delivered"] or result["failed"]:
                click.echo(f"relayed {result['delivered']}, failed {result['failed']}", err=True)
        except Exception as exc:  # the database or backend may be down for a while: keep trying
            log.warning("search relay loop: %s", describe_error(exc))
            click.echo(f"relay pass failed: {describe_error(exc)}", err=True)
        finally:
            db.session.remove()
        stop.wait(interval)
    click.echo("search relay loop: stopped", err=True)


@search_cli.command("status")
def search_status() -> None:
    """Show the backend, pending outbox entries and lag."""
    health = search_outbox.health()
    status = search_outbox.outbox_status()
    click.echo(f"backend: {health.get('backend')} ({'ok' if health.get('ok') else 'DOWN'})")
    lag = "-" if status["lag_seconds"] is None else f"{status['lag_seconds']:.1f}s"
    click.echo(f"pending: {status['pending']} (retrying: {status['retrying']}), lag: {lag}")

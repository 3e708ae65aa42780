"""``flask demo`` and ``flask taxonomy``: the demo dataset and the field taxonomy."""
from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace.services.unit_of_work import unit_of_work

demo_cli = AppGroup("demo", help="Demo dataset.")
taxonomy_cli = AppGroup("taxonomy", help="Field taxonomy.")


@demo_cli.command("load")
@click.option("--reset-passwords", is_flag=True, help="Give the demo accounts new passwords and print them.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Date the demo history is relative to (default: today).")
def demo_load(reset_passwords: bool, today=None) -> None:
    """Load the demo dataset (idempotent) and print the demo accounts."""
    from marketplace.demo.loader import load_demo
    with unit_of_work() as session:
        result = load_demo(session, reset_passwords=reset_passwords, today=today.date() if today else None)
    if result["created"]:
        click.echo(f"Loaded demo data: {result['organizations']} organisations, {result['offers']} offers in 3 batches, "
                   f"{result['needs']} needs, 50 high-value patents, {result['events']} events with "
                   f"{result['registrations']} registrations, {result['introductions']} introductions "
                   f"({result['signed']} signed).")
    else:
        click.echo("Demo data already present; nothing added.")
    click.echo("Demo accounts (demo data only; change or remove before production):")
    for email, password, role in result["accounts"]:
        click.echo(f"  {role:<10} {email:<32} {password}")
    if result["created"]:
        from marketplace.tasks import matching as matching_tasks
        click.echo("Computing match suggestions…")
        summary = matching_tasks.rebuild()
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
    with unit_of_work() as session:
        added = load_taxonomy(session)
    click.echo(f"{added} taxonomy nodes added.")

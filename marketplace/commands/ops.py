"""Operations commands: check, backup, restore, grant-role.

    flask --app wsgi check                       # configuration and connections, one line per check
    flask --app wsgi backup [PATH]               # PostgreSQL: pg_dump custom format; SQLite: backup API
    flask --app wsgi restore PATH --yes [--reindex]
    flask --app wsgi grant-role EMAIL operator   # give a registered account a platform role
"""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import inspect

from marketplace import backups, health_checks
from marketplace.models.accounts import PLATFORM_ROLES
from marketplace.settings import current_settings


@click.command("check")
@with_appcontext
@click.option("--no-workers", is_flag=True, help="Do not require a listening RQ worker (before starting them).")
def check_command(no_workers: bool) -> None:
    """Check the configuration and every connection; exit 1 if anything FAILs."""
    config = current_app.config
    click.echo(f"TechBridge {config.get('ENV_NAME')} settings")
    results = health_checks.run_checks(require_workers=not no_workers)
    for result in results:
        click.echo(result.line())
    failed = [r for r in results if r.status == "FAIL"]
    click.echo(f"{len(failed)} failed, {sum(r.status == 'WARN' for r in results)} warnings, "
               f"{sum(r.status == 'OK' for r in results)} ok")
    if failed:
        raise SystemExit(1)


@click.command("backup")
@with_appcontext
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path | None) -> None:
    """Back up the database to PATH (default: <instance>/backups/techbridge-<time>.dump|.sqlite).

    PostgreSQL: pg_dump custom format (restore with `flask restore` or pg_restore). SQLite: the
    sqlite3 online backup API. The search index is not backed up: it is rebuilt from the database.
    """
    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    target = backups.backup_database(uri, path or backups.default_backup_path(uri, current_settings().instance_dir))
    click.echo(f"backed up {health_checks.safe_url(uri)} to {target} ({target.stat().st_size:,} bytes)")


@click.command("restore")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm that the current database is to be replaced.")
@click.option("--reindex", is_flag=True, help="Rebuild the search indexes from the restored database.")
def restore_command(path: Path, yes: bool, reindex: bool) -> None:
    """Replace the database with the backup at PATH. Stop web, worker and relay processes first."""
    from marketplace.extensions import db
    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    tables = inspect(db.engine).get_table_names()
    db.engine.dispose()
    if tables and not yes:
        raise click.ClickException(f"{health_checks.safe_url(uri)} has {len(tables)} tables; restoring replaces all of them. "
                                   "Run again with --yes to confirm (stop the web, worker and relay first).")
    backups.restore_database(uri, path)
    click.echo(f"restored {health_checks.safe_url(uri)} from {path}")
    schema = health_checks.check_database(current_app.config)
    if schema.status != "OK":
        click.echo(f"schema: {schema.detail} -> {schema.fix}")
    if reindex:
        from marketplace.tasks import search as search_tasks
        for name, count in search_tasks.reindex().items():
            click.echo(f"reindexed {name}: {count} documents")
    else:
        click.echo("The search index still holds the data from before the restore: "
                   "run `flask --app wsgi search reindex` (or restore with --reindex).")
    click.echo("Match suggestions are restored with the database; `flask --app wsgi matching rebuild` refits "
               "the model the worker uses for new needs.")


@click.command("grant-role")
@with_appcontext
@click.argument("email")
@click.argument("role", type=click.Choice(PLATFORM_ROLES))
def grant_role_command(email: str, role: str) -> None:
    """Give the registered account EMAIL a platform role (the first operator of a new site, say)."""
    from sqlalchemy import select

    from marketplace.models import User
    from marketplace.services import accounts
    from marketplace.services.unit_of_work import unit_of_work
    with unit_of_work() as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise click.ClickException(f"no account with e-mail {email}: register it on the site first")
        accounts.grant_role(user, role)
    click.echo(f"{email} now has the role {role}")


COMMANDS = (check_command, backup_command, restore_command, grant_role_command)

"""Operations commands for running TechBridge in production.

    flask --app wsgi check                       # configuration and connections, one line per check
    flask --app wsgi backup [PATH]               # PostgreSQL: pg_dump custom format; SQLite: backup API
    flask --app wsgi restore PATH --yes [--reindex]
    flask --app wsgi search relay-loop           # deliver due search outbox entries every few seconds
    flask --app wsgi grant-role EMAIL operator   # give a registered account a platform role

Operator-facing terminal output is English, like the other commands.
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import smtplib
import sqlite3
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from marketplace.config import PROJECT_ROOT
from marketplace.models.accounts import PLATFORM_ROLES

log = logging.getLogger(__name__)

KNOWN_WEAK_KEYS = {"dev-only-not-secret", "testing-only-not-secret", "change-me", "secret", "changeme"}
MIN_SECRET_LENGTH = 32
OUTBOX_LAG_WARN = timedelta(minutes=5)


# --- check ----------------------------------------------------------------------------------------------

@dataclass
class Check:
    """One line of ``flask check``: status is OK, WARN or FAIL; ``fix`` says what to do."""
    status: str
    name: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        text_ = f"{self.status:<4}  {self.name:<12} {self.detail}"
        return text_ + (f"\n      {'':<12} -> {self.fix}" if self.fix else "")


def _ok(name, detail):
    return Check("OK", name, detail)


def _fail(name, detail, fix):
    return Check("FAIL", name, detail, fix)


def _warn(name, detail, fix=""):
    return Check("WARN", name, detail, fix)


def _describe(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{exc.__class__.__name__}: {message}"[:200] if message else exc.__class__.__name__


def check_secret_key(config) -> Check:
    key = config.get("SECRET_KEY") or ""
    if config.get("ENV_NAME") != "production":
        return _ok("secret key", f"{config.get('ENV_NAME')} settings (a fixed key is fine outside production)")
    fix = "set SECRET_KEY to a long random value: python -c 'import secrets; print(secrets.token_hex(32))'"
    if key in KNOWN_WEAK_KEYS:
        return _fail("secret key", "SECRET_KEY is a well-known placeholder", fix)
    if len(key) < MIN_SECRET_LENGTH:
        return _fail("secret key", f"SECRET_KEY has {len(key)} characters, fewer than {MIN_SECRET_LENGTH}", fix)
    if not config.get("SESSION_COOKIE_SECURE"):
        return _fail("secret key", "session cookies are not marked Secure", "serve production over HTTPS")
    return _ok("secret key", f"set ({len(key)} characters); session cookies Secure, HTTPS expected")


def _alembic_heads() -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    cfg = Config()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return set(ScriptDirectory.from_config(cfg).get_heads())


def _safe_url(uri: str) -> str:
    return make_url(uri).render_as_string(hide_password=True)


def check_database(config) -> Check:
    from marketplace.extensions import db
    where = _safe_url(config["SQLALCHEMY_DATABASE_URI"])
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            has_version = inspect(conn).has_table("alembic_version")
            current = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()) \
                if has_version else set()
            fields = conn.execute(text("SELECT count(*) FROM fields")).scalar() if current else 0
    except Exception as exc:  # report, never crash: saying what is wrong is the point
        return _fail("database", f"{where} unreachable ({_describe(exc)})",
                     "start the database server or fix DATABASE_URL")
    finally:
        db.session.remove()
    heads = _alembic_heads()
    upgrade = "run: flask --app wsgi db upgrade"
    if not current:
        return _fail("database", f"{where} reachable, but has no schema version (empty?)", upgrade)
    if current != heads:
        return _fail("database", f"{where} schema at {', '.join(sorted(current))}, code expects "
                                 f"{', '.join(sorted(heads))}", upgrade)
    if not fields:
        return _fail("database", f"{where} schema at head, but the field taxonomy is empty",
                     "run: flask --app wsgi taxonomy load")
    return _ok("database", f"{where} reachable, schema at head {', '.join(sorted(heads))}, {fields} fields")


def _http_get(url: str, key: str | None = None, timeout: float = 5.0) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def check_search(config) -> list[Check]:
    url = (config.get("MEILI_URL") or "").rstrip("/")
    if not url:
        return [_ok("search", "embedded backend in the database (set MEILI_URL to use Meilisearch)")]
    try:
        status, _body = _http_get(f"{url}/health")
    except (OSError, ValueError) as exc:
        return [_fail("meilisearch", f"{url} unreachable ({_describe(exc)})",
                      "start Meilisearch or fix MEILI_URL")]
    if status != 200:
        return [_fail("meilisearch", f"{url}/health answered HTTP {status}", "see the Meilisearch log")]
    status, body = _http_get(f"{url}/version", config.get("MEILI_MASTER_KEY"))
    if status in (401, 403):
        return [_fail("meilisearch", f"{url} refused the key (HTTP {status})",
                      "set MEILI_MASTER_KEY to the server's master key (or an admin API key)")]
    if status != 200:
        return [_fail("meilisearch", f"{url}/version answered HTTP {status}", "see the Meilisearch log")]
    import json
    version = json.loads(body or b"{}").get("pkgVersion", "?")
    results = [_ok("meilisearch", f"{url} reachable, key accepted, version {version}")]
    prefix = config.get("MEILI_INDEX_PREFIX", "tb_")
    status, body = _http_get(f"{url}/indexes/{prefix}offers/stats", config.get("MEILI_MASTER_KEY"))
    if status == 200:
        results.append(_ok("search index", f"{prefix}offers holds {json.loads(body).get('numberOfDocuments')} "
                                           "documents"))
    else:
        results.append(_warn("search index", f"index {prefix}offers not found",
                             "run: flask --app wsgi search reindex"))
    return results


def check_outbox() -> Check:
    from marketplace import search_index
    from marketplace.extensions import db
    try:
        status = search_index.outbox_status()
    except Exception as exc:
        db.session.rollback()
        return _warn("outbox", f"could not read the search outbox ({_describe(exc)})")
    lag = status["lag_seconds"]
    detail = f"{status['pending']} entries pending ({status['retrying']} retrying)"
    if lag is not None and lag > OUTBOX_LAG_WARN.total_seconds():
        return _warn("outbox", f"{detail}, oldest {lag:.0f}s old",
                     "is the relay running? flask --app wsgi search relay-loop; see flask --app wsgi search status")
    return _ok("outbox", detail)


def check_redis(config, require_workers: bool = True) -> list[Check]:
    url = config.get("REDIS_URL")
    if not url:
        if config.get("ENV_NAME") == "production":
            return [_warn("redis", "REDIS_URL not set: jobs run inside web requests, rate limits per process",
                          "set REDIS_URL and run: flask --app wsgi worker")]
        return [_ok("redis", "not configured (jobs run in-process)")]
    from redis import Redis
    from rq import Queue, Worker

    from marketplace.jobs import QUEUE_NAME
    where = _safe_url(url)
    try:
        connection = Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        connection.ping()
        queue = Queue(QUEUE_NAME, connection=connection)
        workers = Worker.all(queue=queue)
        waiting = queue.count
    except Exception as exc:
        return [_fail("redis", f"{where} unreachable ({_describe(exc)})", "start Redis or fix REDIS_URL")]
    results = [_ok("redis", f"{where} reachable")]
    if not require_workers:
        results.append(_ok("rq workers", f"not required now (--no-workers); {len(workers)} listening"))
    elif workers:
        results.append(_ok("rq workers", f"{len(workers)} listening on queue {QUEUE_NAME!r}, {waiting} jobs waiting"))
    else:
        results.append(_fail("rq workers", f"no worker listens on queue {QUEUE_NAME!r} ({waiting} jobs waiting)",
                             "start one: flask --app wsgi worker"))
    return results


def _writable(folder: Path) -> str | None:
    """None when ``folder`` exists (or can be created) and accepts a file; else the error."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".check-"):
            pass
    except OSError as exc:
        return _describe(exc)
    return None


def check_mail(config) -> Check:
    server = config.get("MAIL_SERVER")
    if not server:
        from marketplace.mail import mail_folder
        folder = mail_folder()
        error = _writable(folder)
        if error:
            return _fail("mail", f"MAIL_FOLDER {folder} not writable ({error})",
                         "fix the folder's permissions, set MAIL_FOLDER, or set MAIL_SERVER")
        detail = f"no MAIL_SERVER: messages are written to {folder}"
        if config.get("ENV_NAME") == "production":
            return _warn("mail", detail, "set MAIL_SERVER (and MAIL_PORT, MAIL_USERNAME, ...) to send e-mail")
        return _ok("mail", detail)
    port = int(config.get("MAIL_PORT") or 25)
    try:
        smtp_class = smtplib.SMTP_SSL if config.get("MAIL_USE_SSL") else smtplib.SMTP
        with smtp_class(server, port, timeout=5) as smtp:
            smtp.ehlo()
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
                smtp.ehlo()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
    except (OSError, smtplib.SMTPException) as exc:
        return _fail("mail", f"SMTP {server}:{port} failed ({_describe(exc)})",
                     "check MAIL_SERVER, MAIL_PORT, MAIL_USE_TLS/SSL and the credentials")
    return _ok("mail", f"SMTP {server}:{port} accepted the connection"
                       + (" and the login" if config.get("MAIL_USERNAME") else ""))


def check_instance(config) -> list[Check]:
    folder = Path(config["INSTANCE_DIR"])
    error = _writable(folder)
    if error:
        return [_fail("instance dir", f"{folder} not writable ({error})",
                      "set INSTANCE_DIR to a writable folder shared by web and worker processes")]
    results = [_ok("instance dir", f"{folder} writable")]
    uploads = config.get("UPLOAD_FOLDER")
    if uploads:
        error = _writable(Path(uploads))
        results.append(_fail("uploads", f"UPLOAD_FOLDER {uploads} not writable ({error})",
                             "fix its permissions or set UPLOAD_FOLDER (shared by all web processes)")
                       if error else _ok("uploads", f"{uploads} writable"))
    if not (folder / "matching_model" / "manifest.json").exists():
        results.append(_warn("matching", f"no fitted matching model in {folder / 'matching_model'}",
                             "run: flask --app wsgi matching rebuild"))
    return results


def run_checks(app: Flask | None = None, require_workers: bool = True) -> list[Check]:
    """Every check for the current app's configuration, in a fixed order."""
    config = (app or current_app).config
    database = check_database(config)
    results = [check_secret_key(config), database]
    results += check_search(config)
    if database.status == "OK":  # the outbox is a table: only readable once the schema is there
        results.append(check_outbox())
    results += check_redis(config, require_workers)
    results.append(check_mail(config))
    results += check_instance(config)
    return results


@click.command("check")
@with_appcontext
@click.option("--no-workers", is_flag=True, help="Do not require a listening RQ worker (before starting them).")
def check_command(no_workers: bool) -> None:
    """Check the configuration and every connection; exit 1 if anything FAILs."""
    config = current_app.config
    click.echo(f"TechBridge {config.get('ENV_NAME')} settings")
    results = run_checks(require_workers=not no_workers)
    for result in results:
        click.echo(result.line())
    failed = [r for r in results if r.status == "FAIL"]
    click.echo(f"{len(failed)} failed, {sum(r.status == 'WARN' for r in results)} warnings, "
               f"{sum(r.status == 'OK' for r in results)} ok")
    if failed:
        raise SystemExit(1)


# --- backup and restore ---------------------------------------------------------------------------------

def _libpq(uri: str) -> tuple[str, dict]:
    """A libpq connection URI without the password (which goes into the environment instead)."""
    url = make_url(uri)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        raise click.ClickException(f"{name} not found: install the PostgreSQL client (Debian: postgresql-client)")
    return path


def _sqlite_path(uri: str) -> Path:
    database = make_url(uri).database
    if not database or database == ":memory:":
        raise click.ClickException("an in-memory SQLite database cannot be backed up")
    return Path(database)


def backup_database(uri: str, target: Path) -> Path:
    """Write a backup of the database at ``uri`` to ``target`` (written aside, then moved into place)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    dialect = make_url(uri).get_backend_name()
    if dialect == "postgresql":
        conninfo, env = _libpq(uri)
        result = subprocess.run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                                 "--file", str(partial), "--dbname", conninfo], env=env, capture_output=True,
                                text=True, check=False)
        if result.returncode:
            partial.unlink(missing_ok=True)
            raise click.ClickException(f"pg_dump failed: {result.stderr.strip()}")
    elif dialect == "sqlite":
        source = sqlite3.connect(_sqlite_path(uri))
        destination = sqlite3.connect(partial)
        try:
            source.backup(destination)  # a consistent copy even while the site writes
        finally:
            destination.close()
            source.close()
    else:
        raise click.ClickException(f"backups of {dialect} databases are not supported")
    partial.replace(target)
    return target


def _dump_tables(path: Path) -> set[str]:
    result = subprocess.run([_pg_tool("pg_restore"), "--list", str(path)], capture_output=True, text=True,
                            check=False)
    if result.returncode:
        raise click.ClickException(f"{path} is not a pg_dump custom-format backup: {result.stderr.strip()}")
    tables = set()
    for line in result.stdout.splitlines():
        parts = line.split()
        # e.g. "215; 1259 16390 TABLE public offers postgres"
        if len(parts) >= 6 and parts[3] == "TABLE" and not line.startswith(";"):
            tables.add(parts[5])
    return tables


def _check_sqlite_backup(path: Path) -> None:
    with open(path, "rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise click.ClickException(f"{path} is not a SQLite database")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise click.ClickException(f"{path} fails SQLite's integrity check")
    finally:
        conn.close()


def restore_database(uri: str, source: Path) -> None:
    """Replace the database at ``uri`` with the backup ``source`` (the caller has confirmed)."""
    from marketplace.extensions import db
    dialect = make_url(uri).get_backend_name()
    db.session.remove()
    if dialect == "postgresql":
        in_dump = _dump_tables(source)
        db.engine.dispose()
        extra = [t for t in inspect(db.engine).get_table_names() if t not in in_dump]
        if extra:  # tables the backup does not have (a newer schema): drop them so the restore is exact
            with db.engine.begin() as conn:
                for table in extra:
                    conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
        db.engine.dispose()
        conninfo, env = _libpq(uri)
        result = subprocess.run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
                                 "--single-transaction", "--exit-on-error", "--dbname", conninfo, str(source)],
                                env=env, capture_output=True, text=True, check=False)
        if result.returncode:
            raise click.ClickException(f"pg_restore failed (nothing changed): {result.stderr.strip()}")
        # A dump carries no planner statistics: gather them now rather than run slow plans until autovacuum.
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    elif dialect == "sqlite":
        _check_sqlite_backup(source)
        db.engine.dispose()
        backup = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(_sqlite_path(uri))
        try:
            backup.backup(target)  # page-level copy: the target becomes exactly the backup
        finally:
            target.close()
            backup.close()
    else:
        raise click.ClickException(f"restoring {dialect} databases is not supported")
    db.engine.dispose()


def _default_backup_path(uri: str) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    suffix = "dump" if make_url(uri).get_backend_name() == "postgresql" else "sqlite"
    return Path(current_app.config["INSTANCE_DIR"]) / "backups" / f"techbridge-{stamp}.{suffix}"


@click.command("backup")
@with_appcontext
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path | None) -> None:
    """Back up the database to PATH (default: <instance>/backups/techbridge-<time>.dump|.sqlite).

    PostgreSQL: pg_dump custom format (restore with `flask restore` or pg_restore). SQLite: the
    sqlite3 online backup API. The search index is not backed up: it is rebuilt from the database.
    """
    uri = current_app.config["SQLALCHEMY_DATABASE_URI"]
    target = backup_database(uri, path or _default_backup_path(uri))
    click.echo(f"backed up {_safe_url(uri)} to {target} ({target.stat().st_size:,} bytes)")


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
        raise click.ClickException(f"{_safe_url(uri)} has {len(tables)} tables; restoring replaces all of them. "
                                   "Run again with --yes to confirm (stop the web, worker and relay first).")
    restore_database(uri, path)
    click.echo(f"restored {_safe_url(uri)} from {path}")
    schema = check_database(current_app.config)
    if schema.status != "OK":
        click.echo(f"schema: {schema.detail} -> {schema.fix}")
    if reindex:
        from marketplace import search_index
        for name, count in search_index.reindex().items():
            click.echo(f"reindexed {name}: {count} documents")
    else:
        click.echo("The search index still holds the data from before the restore: "
                   "run `flask --app wsgi search reindex` (or restore with --reindex).")
    click.echo("Match suggestions are restored with the database; `flask --app wsgi matching rebuild` refits "
               "the model the worker uses for new needs.")


# --- search relay loop ------------------------------------------------------------------------------------

@click.command("relay-loop")
@with_appcontext
@click.option("--interval", default=5.0, show_default=True, help="Seconds between passes over the outbox.")
def relay_loop_command(interval: float) -> None:
    """Deliver due search outbox entries every --interval seconds until stopped (SIGTERM/SIGINT).

    Writes are relayed right after each commit already (by the worker with REDIS_URL); this loop retries
    entries whose delivery failed once their backoff is over, and catches any relay job that was lost.
    """
    from marketplace import search_index
    from marketplace.extensions import db
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"search relay loop: every {interval:g}s", err=True)
    while not stop.is_set():
        busy = False
        try:
            result = search_index.relay()
            if result["delivered"] or result["failed"]:
                click.echo(f"relayed {result['delivered']}, failed {result['failed']}", err=True)
            busy = result["delivered"] >= 1000  # a full chunk: more may be due right away
        except Exception as exc:  # the database or backend may be down for a while: keep trying
            log.warning("search relay loop: %s", _describe(exc))
            click.echo(f"relay pass failed: {_describe(exc)}", err=True)
            db.session.rollback()
        finally:
            db.session.remove()
        if not busy:
            stop.wait(interval)
    click.echo("search relay loop: stopped", err=True)


# --- roles ------------------------------------------------------------------------------------------------

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


def register(app: Flask) -> None:
    """Add the operations commands to ``app``'s CLI (relay-loop joins the ``search`` group)."""
    from marketplace.cli import search_cli
    for command in (check_command, backup_command, restore_command, grant_role_command):
        app.cli.add_command(command)
    search_cli.add_command(relay_loop_command)

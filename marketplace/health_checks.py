"""Checks of a deployment's configuration and connections (``flask --app wsgi check``).

Each check returns a ``Check`` line: OK, WARN or FAIL with what to do. Operator-facing output is English,
like the other commands.
"""
from __future__ import annotations

import logging
import smtplib
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from marketplace.config import KNOWN_WEAK_KEYS, MIN_SECRET_LENGTH, PROJECT_ROOT, secret_key_problem  # noqa: F401

log = logging.getLogger(__name__)
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


def describe_error(exc: BaseException) -> str:
    """An exception as one short line for operators."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{exc.__class__.__name__}: {message}"[:200] if message else exc.__class__.__name__


def check_secret_key(config) -> Check:
    key = config.get("SECRET_KEY") or ""
    if config.get("ENV_NAME") != "production":
        return _ok("secret key", f"{config.get('ENV_NAME')} settings (a fixed key only serves on 127.0.0.1)")
    fix = "set SECRET_KEY to a long random value: python -c 'import secrets; print(secrets.token_hex(32))'"
    problem = secret_key_problem(key)  # the same rule the app factory applies before serving
    if problem:
        return _fail("secret key", problem, fix)
    if not config.get("SESSION_COOKIE_SECURE"):
        return _fail("secret key", "session cookies are not marked Secure", "serve production over HTTPS")
    return _ok("secret key", f"set ({len(key)} characters); session cookies Secure, HTTPS expected")


def _alembic_heads() -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    cfg = Config()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return set(ScriptDirectory.from_config(cfg).get_heads())


def safe_url(uri: str) -> str:
    """The database URL with its password hidden, for messages."""
    return make_url(uri).render_as_string(hide_password=True)


def check_database(config) -> Check:
    from marketplace.extensions import db
    where = safe_url(config["SQLALCHEMY_DATABASE_URI"])
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            has_version = inspect(conn).has_table("alembic_version")
            current = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()) \
                if has_version else set()
            fields = conn.execute(text("SELECT count(*) FROM fields")).scalar() if current else 0
    except Exception as exc:  # report, never crash: saying what is wrong is the point
        return _fail("database", f"{where} unreachable ({describe_error(exc)})",
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
        return [_fail("meilisearch", f"{url} unreachable ({describe_error(exc)})",
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
    from marketplace import search_outbox
    from marketplace.extensions import db
    try:
        status = search_outbox.outbox_status()
    except Exception as exc:
        db.session.rollback()
        return _warn("outbox", f"could not read the search outbox ({describe_error(exc)})")
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
    where = safe_url(url)
    try:
        connection = Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        connection.ping()
        queue = Queue(QUEUE_NAME, connection=connection)
        workers = Worker.all(queue=queue)
        waiting = queue.count
    except Exception as exc:
        return [_fail("redis", f"{where} unreachable ({describe_error(exc)})", "start Redis or fix REDIS_URL")]
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
        return describe_error(exc)
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
        return _fail("mail", f"SMTP {server}:{port} failed ({describe_error(exc)})",
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

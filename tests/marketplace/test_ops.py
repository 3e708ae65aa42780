"""Operations commands: `flask check` with good and bad settings, backup/restore round trips.

Each test builds its own app on a scratch database migrated with Alembic (the shared test database is
built with create_all and has no schema version). PostgreSQL round trips use a scratch database
``tb_backup_<pid>`` created and dropped here; Redis checks use database 15 with a queue of their own.
"""
from __future__ import annotations

import os
import socket
import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from marketplace import create_app, health_checks, jobs
from marketplace.extensions import db
from marketplace.models import Organization
from tests.conftest import TEST_PASSWORD
from tests.factories import Factory

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def closed_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_app(tmp_path, upgrade: bool = True, config: str = "testing", taxonomy: bool = True, **overrides):
    settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'ops.sqlite'}", "INSTANCE_DIR": str(tmp_path),
                "MEILI_URL": None, "REDIS_URL": None}
    settings.update(overrides)
    app = create_app(config, overrides=settings)
    if upgrade:
        from flask_migrate import upgrade as alembic_upgrade
        with app.app_context():
            alembic_upgrade()
            if taxonomy:
                from marketplace.reference.taxonomy import load_taxonomy
                load_taxonomy(db.session)
                db.session.commit()
            db.engine.dispose()
    return app


def status_of(result_output: str, name: str) -> str:
    for line in result_output.splitlines():
        if line[:4] in ("OK  ", "WARN", "FAIL") and line[6:18].strip() == name:
            return line[:4].strip()
    raise AssertionError(f"no line for {name!r} in:\n{result_output}")


# --- check --------------------------------------------------------------------------------------------

def test_check_passes_on_a_migrated_database(tmp_path):
    app = build_app(tmp_path)
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 0, result.output
    assert status_of(result.output, "database") == "OK"
    assert "schema at head" in result.output
    assert status_of(result.output, "instance dir") == "OK"
    assert "0 failed" in result.output


def test_check_says_to_upgrade_an_unmigrated_or_old_database(tmp_path):
    app = build_app(tmp_path, upgrade=False)
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1
    assert status_of(result.output, "database") == "FAIL"
    assert "flask --app wsgi db upgrade" in result.output

    from flask_migrate import upgrade as alembic_upgrade
    with app.app_context():
        alembic_upgrade(revision="0008_confidentiality")
        db.engine.dispose()
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1
    head = ", ".join(sorted(health_checks._alembic_heads()))
    assert f"schema at 0008_confidentiality, code expects {head}" in result.output


def test_check_says_to_load_the_taxonomy(tmp_path):
    app = build_app(tmp_path, taxonomy=False)
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1 and status_of(result.output, "database") == "FAIL"
    assert "flask --app wsgi taxonomy load" in result.output


def test_check_fails_clearly_on_closed_meilisearch_and_redis_ports(tmp_path):
    app = build_app(tmp_path, MEILI_URL=f"http://127.0.0.1:{closed_port()}", MEILI_MASTER_KEY="k",
                    REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0")
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1
    assert status_of(result.output, "meilisearch") == "FAIL"
    assert status_of(result.output, "redis") == "FAIL"
    assert "unreachable" in result.output and "start Meilisearch or fix MEILI_URL" in result.output
    assert "start Redis or fix REDIS_URL" in result.output


def test_check_fails_on_an_unreachable_database(tmp_path):
    app = build_app(tmp_path, upgrade=False,
                    SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/nowhere")
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1
    assert status_of(result.output, "database") == "FAIL"
    assert "start the database server or fix DATABASE_URL" in result.output


def test_check_fails_on_unwritable_mail_folder_and_closed_smtp_port(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    app = build_app(tmp_path, MAIL_FOLDER=str(blocker / "mail"))
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1 and status_of(result.output, "mail") == "FAIL"
    assert "not writable" in result.output

    app = build_app(tmp_path, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(closed_port()))
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1 and status_of(result.output, "mail") == "FAIL"
    assert "SMTP 127.0.0.1" in result.output


def test_check_secret_key_in_production(tmp_path):
    weak = health_checks.check_secret_key({"ENV_NAME": "production", "SECRET_KEY": "short", "SESSION_COOKIE_SECURE": True})
    assert weak.status == "FAIL" and "secrets.token_hex" in weak.fix
    placeholder = health_checks.check_secret_key({"ENV_NAME": "production", "SECRET_KEY": "dev-only-not-secret",
                                        "SESSION_COOKIE_SECURE": True})
    assert placeholder.status == "FAIL"
    app = build_app(tmp_path, config="production", SECRET_KEY="k" * 48)
    result = app.test_cli_runner().invoke(args=["check"])
    assert status_of(result.output, "secret key") == "OK"
    # production without Redis or a mail server works, but says so
    assert status_of(result.output, "redis") == "WARN" and status_of(result.output, "mail") == "WARN"


@pytest.fixture
def redis_db15():
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("no Redis on 127.0.0.1:6379")
    return url


def test_check_requires_a_listening_rq_worker(tmp_path, redis_db15, monkeypatch):
    from redis import Redis
    from rq import Queue, Worker
    monkeypatch.setattr(jobs, "QUEUE_NAME", f"techbridge-ops-{uuid.uuid4().hex[:8]}")
    app = build_app(tmp_path, REDIS_URL=redis_db15)
    result = app.test_cli_runner().invoke(args=["check"])
    assert result.exit_code == 1 and status_of(result.output, "redis") == "OK"
    assert status_of(result.output, "rq workers") == "FAIL" and "flask --app wsgi worker" in result.output
    assert app.test_cli_runner().invoke(args=["check", "--no-workers"]).exit_code == 0

    connection = Redis.from_url(redis_db15)
    worker = Worker([Queue(jobs.QUEUE_NAME, connection=connection)], connection=connection)
    worker.register_birth()
    try:
        result = app.test_cli_runner().invoke(args=["check"])
        assert result.exit_code == 0, result.output
        assert "1 listening on queue" in result.output
    finally:
        worker.register_death()


@pytest.mark.meili
def test_check_meilisearch_key_accepted_or_refused(tmp_path):
    from search.testing import meilisearch_binary, start_meilisearch
    if meilisearch_binary() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Meilisearch binary missing under CI: run `make meilisearch`")
        pytest.skip("no Meilisearch binary: run `make meilisearch`")
    url, key, stop = start_meilisearch(tmp_path / "meili")
    try:
        app = build_app(tmp_path, MEILI_URL=url, MEILI_MASTER_KEY=key, MEILI_INDEX_PREFIX="ops_")
        result = app.test_cli_runner().invoke(args=["check"])
        assert result.exit_code == 0, result.output
        assert "key accepted" in result.output
        app = build_app(tmp_path, upgrade=False, MEILI_URL=url, MEILI_MASTER_KEY="wrong-key")
        result = app.test_cli_runner().invoke(args=["check"])
        assert result.exit_code == 1 and status_of(result.output, "meilisearch") == "FAIL"
        assert "refused the key" in result.output and "MEILI_MASTER_KEY" in result.output
    finally:
        stop()


# --- backup and restore -------------------------------------------------------------------------------

def org_names(app) -> list[str]:
    with app.app_context():
        names = list(db.session.scalars(select(Organization.name_zh).order_by(Organization.name_zh)))
        db.session.remove()
        return names


def round_trip(app, tmp_path, suffix: str) -> None:
    make = Factory(app, TEST_PASSWORD)
    make.org("firm", name="备份前的机构")
    runner = app.test_cli_runner()
    target = tmp_path / f"backup.{suffix}"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert target.is_file() and target.stat().st_size > 0

    make.org("firm", name="备份后的机构")
    assert org_names(app) == sorted(["备份前的机构", "备份后的机构"])

    refused = runner.invoke(args=["restore", str(target)])
    assert refused.exit_code != 0 and "--yes" in refused.output
    assert len(org_names(app)) == 2  # nothing changed

    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert "search reindex" in result.output
    assert org_names(app) == ["备份前的机构"]

    result = runner.invoke(args=["restore", str(target), "--yes", "--reindex"])
    assert result.exit_code == 0, result.output
    assert "reindexed organizations: 1 documents" in result.output
    assert runner.invoke(args=["check"]).exit_code == 0


def test_sqlite_backup_and_restore_round_trip(tmp_path):
    app = build_app(tmp_path)
    round_trip(app, tmp_path, "sqlite")
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database")
    result = app.test_cli_runner().invoke(args=["restore", str(garbage), "--yes"])
    assert result.exit_code != 0 and "not a SQLite database" in result.output
    assert org_names(app) == ["备份前的机构"]


def test_backup_default_path_is_in_the_instance_folder(tmp_path):
    app = build_app(tmp_path)
    result = app.test_cli_runner().invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    assert list((tmp_path / "backups").glob("techbridge-*.sqlite"))


@pytest.fixture
def scratch_pg():
    """A PostgreSQL database of this test's own, dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    admin = os.environ.get("DATABASE_URL", "")
    admin_url = make_url(admin).set(database="postgres") if admin.startswith("postgres") else make_url(PG_ADMIN_URL)
    conninfo = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    name = f"tb_backup_{os.getpid()}"
    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()


@pytest.mark.postgres
def test_postgres_backup_and_restore_round_trip(tmp_path, scratch_pg):
    app = build_app(tmp_path, SQLALCHEMY_DATABASE_URI=scratch_pg)
    try:
        round_trip(app, tmp_path, "dump")
        # A table the backup does not know (a newer schema, say) is dropped: the restore is exact.
        with app.app_context():
            db.session.execute(text("CREATE TABLE added_later (id integer)"))
            db.session.commit()
        result = app.test_cli_runner().invoke(args=["restore", str(tmp_path / "backup.dump"), "--yes"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            assert db.session.scalar(text("SELECT to_regclass('added_later')")) is None
            assert db.session.scalar(select(func.count(Organization.id))) == 1
            db.session.remove()
    finally:
        with app.app_context():
            db.engine.dispose()


# --- roles and the relay loop ------------------------------------------------------------------------

def test_grant_role_to_a_registered_account(tmp_path):
    from marketplace.models import User
    app = build_app(tmp_path)
    make = Factory(app, TEST_PASSWORD)
    make.user("first.operator@example.com")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["grant-role", "First.Operator@example.com", "operator"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "first.operator@example.com"))
        assert user.role_names == {"operator"}
        db.session.remove()
    missing = runner.invoke(args=["grant-role", "nobody@example.com", "operator"])
    assert missing.exit_code != 0 and "register it on the site first" in missing.output
    assert runner.invoke(args=["grant-role", "first.operator@example.com", "emperor"]).exit_code != 0


def test_relay_loop_delivers_due_entries_until_stopped(tmp_path):
    """The Procfile's relay process: a real subprocess, stopped with SIGTERM like a process manager does."""
    import signal
    import subprocess
    import sys
    import time

    from marketplace.config import PROJECT_ROOT
    from marketplace.models import SearchOutboxEntry
    app = build_app(tmp_path)
    make = Factory(app, TEST_PASSWORD)
    org = make.org("firm")
    with app.app_context():  # make the entry look like a failed delivery whose backoff is over
        db.session.execute(SearchOutboxEntry.__table__.update().values(done_at=None, attempts=1))
        db.session.commit()
        db.session.remove()
    env = dict(os.environ, TECHBRIDGE_ENV="development", DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
               INSTANCE_DIR=str(tmp_path))
    for key in ("MEILI_URL", "REDIS_URL"):
        env.pop(key, None)
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "search", "relay-loop",
                                "--interval", "0.2"], cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        pending = None
        while time.monotonic() < deadline:
            with app.app_context():
                pending = db.session.scalar(select(func.count(SearchOutboxEntry.id))
                                            .where(SearchOutboxEntry.done_at.is_(None)))
                db.session.remove()
            if pending == 0:
                break
            assert process.poll() is None, process.stdout.read()
            time.sleep(0.2)
        assert pending == 0
        with app.app_context():
            from marketplace import search_index
            assert str(org) in search_index.backend().all_ids("organizations")
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "relayed" in output and "stopped" in output

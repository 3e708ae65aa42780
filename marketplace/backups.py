"""Backup and restore of the database: pg_dump / pg_restore for PostgreSQL, the backup API for SQLite.

The search index is not backed up: it is rebuilt from the database (``flask search reindex``).
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import click
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url


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


def default_backup_path(uri: str, instance_dir: Path) -> Path:
    """``<instance>/backups/techbridge-<UTC time>.dump`` (PostgreSQL) or ``.sqlite``."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    suffix = "dump" if make_url(uri).get_backend_name() == "postgresql" else "sqlite"
    return Path(instance_dir) / "backups" / f"techbridge-{stamp}.{suffix}"

"""Database engine tuning applied when the app is created."""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    # WAL lets the search relay write its index while a request still reads; foreign keys make the
    # ON DELETE rules of the schema real on SQLite too.
    module = type(dbapi_connection).__module__
    if not module.startswith(("sqlite3", "pysqlite")):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable with WAL, without an fsync per commit
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def install_engine_hooks() -> None:
    """Idempotent: register the SQLite connection pragmas for every engine."""
    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)


def database_health() -> dict:
    """Whether the app's database answers (``/healthz``, ``flask check``); never raises."""
    from sqlalchemy import text

    from marketplace.extensions import db
    try:
        db.session.execute(text("SELECT 1"))
        return {"ok": True, "dialect": db.engine.dialect.name}
    except Exception as exc:  # report, don't crash: the caller exists to say what is wrong
        db.session.rollback()
        return {"ok": False, "error": exc.__class__.__name__}

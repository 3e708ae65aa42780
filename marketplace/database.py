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

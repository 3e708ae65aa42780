"""Row locks for check-then-act rules (capacity, state machines, counters), on PostgreSQL and SQLite alike.

A rule such as "at most ten confirmed places" or "only a proposed introduction can be accepted" reads, then
writes. Two requests in different worker processes must not both read the old state: the second waits for
the first to commit, then reads what it wrote. PostgreSQL locks the row (``SELECT … FOR UPDATE``); SQLite
has no row locks, so a no-op UPDATE of the row takes the database's write lock instead, which every other
writer then waits for (``busy_timeout``). Reads made before the lock may be stale: lock first, then read.
"""
from __future__ import annotations

from typing import TypeVar

from sqlalchemy import text, update

from marketplace.extensions import db

Row = TypeVar("Row")


def lock(model: type[Row], row_id) -> Row | None:
    """Lock the row ``row_id`` of ``model`` until the unit of work ends and return it freshly read."""
    session = db.session
    if session.get_bind().dialect.name == "sqlite":
        key = model.__table__.primary_key.columns.values()[0]
        session.connection().execute(update(model.__table__).where(key == row_id).values({key: key}))
        return session.get(model, row_id, populate_existing=True)
    return session.get(model, row_id, with_for_update=True, populate_existing=True)


def lock_instance(instance: Row) -> Row:
    """Lock a loaded row and refresh it (see :func:`lock`); raises LookupError if it is gone."""
    row = lock(type(instance), instance.id)
    if row is None:
        raise LookupError(f"{type(instance).__name__} {instance.id} no longer exists")
    return row


def lock_table(model) -> None:
    """Serialise a whole kind of work (a full matching rebuild) until the unit of work ends: the second
    caller waits for the first to commit, then reads what it wrote. PostgreSQL: a table lock that conflicts
    with itself and with writes; SQLite: the database write lock, taken by a no-op UPDATE."""
    session = db.session
    table = model.__table__
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f'LOCK TABLE "{table.name}" IN SHARE ROW EXCLUSIVE MODE'))
    else:
        key = table.primary_key.columns.values()[0]
        session.connection().execute(update(table).where(key.is_(None)).values({key: key}))

"""Choose a backend from configuration."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .base import SearchBackend, SearchError


def create_backend(
    *,
    meili_url: str | None = None,
    meili_key: str | None = None,
    engine: Engine | None = None,
    database_url: str | None = None,
    index_prefix: str = "",
    request_timeout: float = 5.0,
    task_timeout: float = 30.0,
) -> SearchBackend:
    """Return a Meilisearch backend when `meili_url` is set, else an embedded backend on
    `engine` (or `database_url`): SQLite or PostgreSQL according to the engine's dialect.

    `index_prefix` is prepended to every index name (Meilisearch index uid, embedded table
    names), so several environments can share one server or database.
    `request_timeout` (seconds per HTTP request) and `task_timeout` (seconds to wait for an
    index task to be confirmed) apply to Meilisearch only.
    """
    if meili_url:
        from .meili_backend import MeiliBackend

        return MeiliBackend(meili_url, meili_key, index_prefix=index_prefix,
                            request_timeout=request_timeout, task_timeout=task_timeout)
    if engine is None:
        if not database_url:
            raise SearchError("create_backend needs meili_url, engine or database_url")
        engine = sa.create_engine(database_url)
    dialect = engine.dialect.name
    if dialect == "sqlite":
        from .sqlite_backend import SQLiteBackend

        return SQLiteBackend(engine, index_prefix=index_prefix)
    if dialect == "postgresql":
        from .postgres_backend import PostgresBackend

        return PostgresBackend(engine, index_prefix=index_prefix)
    raise SearchError(f"no embedded search backend for database dialect {dialect!r}")

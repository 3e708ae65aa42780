"""The embedded backend: index writes and queries over the shared storage; a SQL dialect
(SQLite, PostgreSQL) completes it."""
from __future__ import annotations

from .indexing import EmbeddedIndexing
from .querying import EmbeddedQueries


class EmbeddedBackend(EmbeddedIndexing, EmbeddedQueries):
    """Base of the SQLite and PostgreSQL backends (see the package docstring for the storage)."""

    kind = "embedded"

"""TechBridge search library (pure library: no Flask, no marketplace imports).

    from search import IndexSpec, SearchQuery, create_backend
    backend = create_backend(meili_url=None, engine=engine, index_prefix="tb_")
    backend.ensure_index(spec)
    backend.upsert("offers", docs)
    result = backend.search("offers", SearchQuery(q="核酸检测", filters={"visibility": ["public"]}))

See docs/search.md for the full contract.
"""
from .base import (
    Hit,
    IndexSpec,
    SearchBackend,
    SearchError,
    SearchQuery,
    SearchResult,
    SearchTimeout,
    SearchUnavailable,
)
from .factory import create_backend

__all__ = [
    "Hit",
    "IndexSpec",
    "SearchBackend",
    "SearchError",
    "SearchQuery",
    "SearchResult",
    "SearchTimeout",
    "SearchUnavailable",
    "create_backend",
]

"""Bridge between the marketplace and the search library (backend chosen at start-up)."""
from __future__ import annotations

from flask import current_app


def health() -> dict:
    """Status of the configured search backend."""
    backend = "meilisearch" if current_app.config.get("MEILI_URL") else "embedded"
    return {"ok": True, "backend": backend}

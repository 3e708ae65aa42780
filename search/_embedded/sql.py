"""Helpers for assembling the SQL text of the embedded backends: LIKE patterns and bound parameters."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def like_pattern(term: str, prefix_only: bool = False) -> str:
    """LIKE pattern (used with ESCAPE '\\') matching `term` literally anywhere, or only at the start."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%" if prefix_only else f"%{escaped}%"


class SqlParams:
    """Collects bound parameters while SQL text is assembled."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> str:
        key = f"p{len(self.values)}"
        self.values[key] = value
        return f":{key}"

    def add_list(self, values: Iterable[Any]) -> str:
        return ", ".join(self.add(v) for v in values)

"""What searches return from stored documents: highlighted fields of a hit and ranked title
suggestions (the Meilisearch backend ranks its suggestions the same way)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..text import highlight_text, normalize


def highlight_document(doc: dict, fields: Sequence[str], needles: Sequence[str], crop_chars: int) -> dict[str, str]:
    """{field: safe HTML} for the searchable fields where a needle occurs (list elements that
    match are joined with ", ")."""
    out = {}
    for name in fields:
        value = doc.get(name)
        if value is None:
            continue
        items = value if isinstance(value, list) else [value]
        marked = [m for m in (highlight_text(str(v), needles, crop_chars) for v in items) if m]
        if marked:
            out[name] = ", ".join(marked)
    return out


def rank_suggestions(docs: Iterable[dict], fields: Sequence[str], typed: str, limit: int) -> list[str]:
    """Distinct title values containing `typed`: prefix matches first, then by length."""
    candidates: dict[str, tuple] = {}
    for doc in docs:
        for name in fields:
            value = doc.get(name)
            for title in value if isinstance(value, list) else [value]:
                if not isinstance(title, str) or not title.strip():
                    continue
                normalized = normalize(title)
                position = normalized.find(typed)
                if position < 0:
                    continue
                key = (0 if position == 0 else 1, len(title), title)
                if title not in candidates or key < candidates[title]:
                    candidates[title] = key
    return [title for title, _ in sorted(candidates.items(), key=lambda item: item[1])][:limit]

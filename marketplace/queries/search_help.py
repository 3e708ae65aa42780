"""Reads that help a search along: the vocabulary behind "did you mean" and pinyin, popular searches, and the
few results shown while typing."""
from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from marketplace import search_index, visibility
from marketplace.extensions import db
from marketplace.models import Need, Offer, Organization, SearchTerm
from marketplace.queries.site_search import SCOPES
from search import SearchQuery
from search.assist import Vocabulary

log = logging.getLogger(__name__)

VOCABULARY_SECONDS = 600  # new titles join the corrections within ten minutes
VOCABULARY_FILE = "search-vocabulary.json"  # in INSTANCE_DIR: the words, shared by the workers of one machine
TITLE_FIELDS = {"offers": ("title_zh", "title_en", "tags"), "needs": ("title_zh", "title_en", "tags"),
                "organizations": ("name_zh", "name_en")}
INSTANT_SCOPES = ("offers", "needs", "organizations")
SCOPE_MODELS = {"offers": Offer, "needs": Need, "organizations": Organization}


def _public_rows(scope: str):
    """The rows of ``scope`` that an anonymous visitor may find (private titles must not leak through corrections)."""
    model = SCOPE_MODELS[scope]
    query = select(model).where(visibility.open_clause(visibility.ANONYMOUS, model))
    statuses = SCOPES[scope][1].get("status")
    if statuses:
        query = query.where(model.status.in_(statuses))
    for row in db.session.scalars(query.order_by(model.id)):
        yield row if model is Organization else visibility.static_view(visibility.ANONYMOUS, row)


def build_vocabulary() -> Vocabulary:
    """The words of what every visitor may find (titles, tags, names), plus the synonyms' words."""
    texts: Counter[str] = Counter()
    tags: Counter[str] = Counter()
    for scope, fields in TITLE_FIELDS.items():
        for row in _public_rows(scope):
            for name in fields:
                value = getattr(row, name, None)
                for text in value if isinstance(value, list) else [value]:
                    if text:
                        texts[text] += 1
                        if name == "tags":
                            tags[text] += 1
    # Each distinct text is cut into words once, weighted by how often it occurs (tags repeat a lot).
    vocab = Vocabulary()
    for text, count in texts.items():
        vocab.add_text(text, count)
    for tag, count in tags.items():
        vocab.add_word(tag, count)
    for term, equivalents in search_index.SYNONYMS.items():
        for word in (term, *equivalents):
            vocab.add_word(word)
    return vocab


def vocabulary() -> Vocabulary:
    """The cached vocabulary of this app, rebuilt after ``VOCABULARY_SECONDS``.

    Building it reads every public title and cuts it into words (seconds at 10,000 offers), so with
    ``SEARCH_VOCABULARY_SHARED`` the words are also written to ``INSTANCE_DIR``: a gunicorn worker that starts
    (or whose copy expired) reads the file another worker wrote, if it is young enough, instead of building
    its own while a visitor waits.
    """
    cached = current_app.extensions.get(search_index.VOCABULARY_CACHE)
    if cached is None or time.monotonic() - cached[0] > VOCABULARY_SECONDS:
        shared = current_app.config.get("SEARCH_VOCABULARY_SHARED")
        cached = _read_shared() if shared else None
        if cached is None:
            cached = (time.monotonic(), build_vocabulary())
            if shared:
                _write_shared(cached[1])
        current_app.extensions[search_index.VOCABULARY_CACHE] = cached
    return cached[1]


def _shared_path() -> Path:
    return Path(current_app.config["INSTANCE_DIR"]) / VOCABULARY_FILE


def _read_shared() -> tuple[float, Vocabulary] | None:
    """(monotonic time it was built, vocabulary) from the shared file, or None when absent, stale or unreadable."""
    try:
        data = json.loads(_shared_path().read_text(encoding="utf-8"))
        age = time.time() - float(data["built_at"])
        counts = data["counts"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not 0 <= age < VOCABULARY_SECONDS or not isinstance(counts, dict):
        return None
    vocab = Vocabulary()
    for word, count in counts.items():
        vocab.add_word(word, int(count))
    return time.monotonic() - age, vocab


def _write_shared(vocab: Vocabulary) -> None:
    """Write the words for the other workers (atomically: a reader sees the old file or the new one)."""
    path = _shared_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}")
        partial.write_text(json.dumps({"built_at": time.time(), "counts": dict(vocab.counts)}, ensure_ascii=False),
                           encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        log.warning("could not share the search vocabulary in %s", path, exc_info=True)


def did_you_mean(q: str) -> str | None:
    """A corrected query built from the indexed words, or None."""
    return vocabulary().did_you_mean(q) if q else None


def popular(limit: int = 8, min_count: int = 2) -> list[str]:
    """The search words that most often found something public (counted, never tied to a person)."""
    return list(db.session.scalars(select(SearchTerm.term).where(SearchTerm.count >= min_count)
                                   .order_by(SearchTerm.count.desc(), SearchTerm.term).limit(limit)))


def found_public(scope: str, q: str) -> bool:
    """Would an anonymous visitor find anything for ``q`` in ``scope``? Only such words are counted."""
    query = SearchQuery(q=q, filters=dict(SCOPES[scope][1]), per_page=1, retrieve=())
    return search_index.search(scope, query, visibility.ANONYMOUS).total > 0


def instant(viewer, q: str, per_scope: int = 4) -> list[dict]:
    """A few results per scope for what ``viewer`` typed so far: title (both languages), scope and id.

    Latin letters that spell the pinyin of indexed Chinese words also find those words ("hes" -> 核酸).
    """
    queries = [q]
    queries += [w for w in vocabulary().from_pinyin(q, limit=2) if w not in queries]
    rows: list[dict] = []
    seen: set[tuple[str, str]] = set()
    for scope in INSTANT_SCOPES:
        zh, en = TITLE_FIELDS[scope][:2]
        for text in queries:
            result = search_index.search(scope, SearchQuery(q=text, filters=dict(SCOPES[scope][1]),
                                                            per_page=per_scope, retrieve=(zh, en)), viewer)
            for hit in result.hits:
                if (scope, hit.id) in seen or len([r for r in rows if r["scope"] == scope]) >= per_scope:
                    continue
                seen.add((scope, hit.id))
                rows.append({"scope": scope, "id": int(hit.id), "title_zh": hit.document.get(zh) or "",
                             "title_en": hit.document.get(en) or ""})
    return rows

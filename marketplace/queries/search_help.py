"""Reads that help a search along: the vocabulary behind "did you mean" and pinyin, popular searches, and the
few results shown while typing."""
from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import select

from marketplace import search_index, visibility
from marketplace.extensions import db
from marketplace.models import Need, Offer, Organization, SearchTerm
from marketplace.queries.site_search import SCOPES
from search import SearchQuery
from search.assist import Vocabulary

VOCABULARY_SECONDS = 600  # new titles join the corrections within ten minutes
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
    vocab = Vocabulary()
    for scope, fields in TITLE_FIELDS.items():
        for row in _public_rows(scope):
            for name in fields:
                value = getattr(row, name, None)
                for text in value if isinstance(value, list) else [value]:
                    if text:
                        vocab.add_text(text)
                        if name == "tags":
                            vocab.add_word(text)
    for term, equivalents in search_index.SYNONYMS.items():
        for word in (term, *equivalents):
            vocab.add_word(word)
    return vocab


def vocabulary() -> Vocabulary:
    """The cached vocabulary of this app, rebuilt after ``VOCABULARY_SECONDS``."""
    cached = current_app.extensions.get(search_index.VOCABULARY_CACHE)
    if cached is None or time.monotonic() - cached[0] > VOCABULARY_SECONDS:
        cached = (time.monotonic(), build_vocabulary())
        current_app.extensions[search_index.VOCABULARY_CACHE] = cached
    return cached[1]


def did_you_mean(q: str) -> str | None:
    """A corrected query built from the indexed words, or None."""
    return vocabulary().did_you_mean(q) if q else None


def popular(limit: int = 8, min_count: int = 2) -> list[str]:
    """The search words that most often found something public (counted, never tied to a person)."""
    return list(db.session.scalars(select(SearchTerm.term).where(SearchTerm.count >= min_count)
                                   .order_by(SearchTerm.count.desc(), SearchTerm.term).limit(limit)))


def found_public(scope: str, q: str) -> bool:
    """Would an anonymous visitor find anything for ``q`` in ``scope``? Only such words are counted."""
    query = SearchQuery(q=q, filters=dict(SCOPES[scope][1]), per_page=1)
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
                                                            per_page=per_scope), viewer)
            for hit in result.hits:
                if (scope, hit.id) in seen or len([r for r in rows if r["scope"] == scope]) >= per_scope:
                    continue
                seen.add((scope, hit.id))
                rows.append({"scope": scope, "id": int(hit.id), "title_zh": hit.document.get(zh) or "",
                             "title_en": hit.document.get(en) or ""})
    return rows

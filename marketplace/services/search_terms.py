"""Counting popular searches: only the normalised words of a search that found something public, never who
searched; words that look personal (an e-mail address, a phone or ID number) or too long are never kept."""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from marketplace.extensions import db
from marketplace.models import SearchTerm
from marketplace.models.search_terms import SEARCH_TERM_MAX_LENGTH

PERSONAL_RE = re.compile(r"@|\d{5,}|https?:|www\.")
MAX_WORDS = 4


def normalized_term(q: str) -> str | None:
    """The form a search is counted under, or None when it must not be kept."""
    term = " ".join(unicodedata.normalize("NFKC", q or "").casefold().split())
    if not term or len(term) > SEARCH_TERM_MAX_LENGTH or len(term.split()) > MAX_WORDS or PERSONAL_RE.search(term):
        return None
    return term


def count_search(q: str) -> str | None:
    """Add one to the count of ``q`` (the caller checked that it finds public results); only flushes."""
    term = normalized_term(q)
    if term is None:
        return None
    add_counts({term: 1})
    return term


def add_counts(counts: dict[str, int]) -> None:
    """Add each normalised term's number of searches to its count, in term order (two writers lock rows in the
    same order); only flushes."""
    now = datetime.now(timezone.utc)
    for term in sorted(counts):
        times = counts[term]
        bump = (update(SearchTerm).where(SearchTerm.term == term)
                .values(count=SearchTerm.count + times, last_counted_at=now))
        if db.session.execute(bump).rowcount:
            continue
        try:
            with db.session.begin_nested():  # another search may insert the same word at the same moment
                db.session.add(SearchTerm(term=term, count=times, last_counted_at=now))
        except IntegrityError:
            db.session.execute(bump)
    db.session.flush()


def terms() -> list[SearchTerm]:
    """Every counted word (for operators' statistics and tests)."""
    return list(db.session.scalars(select(SearchTerm).order_by(SearchTerm.count.desc())))

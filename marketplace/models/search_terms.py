"""Popular searches: how often a search word found something public. Only the word and its count are kept,
never who searched or when each search happened."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.models.base import Base, utcnow

SEARCH_TERM_MAX_LENGTH = 40


class SearchTerm(Base):
    """One normalised search word and how many searches for it found public results."""

    __tablename__ = "search_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(String(SEARCH_TERM_MAX_LENGTH), unique=True)
    count: Mapped[int] = mapped_column(Integer, default=0, index=True)
    last_counted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

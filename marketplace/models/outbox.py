"""Transactional outbox: search-index changes written in the same transaction as the rows they describe."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.models.base import Base, utcnow


class SearchOutboxEntry(Base):
    """"Document ``doc_id`` of ``index_name`` changed"; the relay reads the row's current state and delivers it."""

    __tablename__ = "index_outbox"
    __table_args__ = (Index("ix_index_outbox_document", "index_name", "doc_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    index_name: Mapped[str] = mapped_column(String(40))
    doc_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    # The relay delivering the entry right now (a random token) and since when; a claim older than
    # search_outbox.CLAIM_SECONDS belongs to a relay presumed dead and may be taken over.
    claimed_by: Mapped[str | None] = mapped_column(String(40))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

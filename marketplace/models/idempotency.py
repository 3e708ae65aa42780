"""Submission keys: a form or API call sent twice (double click, retry, two tabs) creates its thing once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.models.base import Base, utcnow


class SubmissionKey(Base):
    """"The submission ``key`` of ``scope`` was carried out": written in the same transaction as what it
    created, so a second one with the same key is refused by the unique constraint even at the same instant.
    The response is stored afterwards, so a replay can answer as the first request did."""

    __tablename__ = "submission_keys"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Whose key: "user:<id>" (site), "token:<hash prefix>" (API), "anon" (forms before logging in).
    scope: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    method: Mapped[str] = mapped_column(String(8), default="POST")
    path: Mapped[str] = mapped_column(String(300), default="")
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_location: Mapped[str] = mapped_column(String(500), default="")
    response_body: Mapped[str | None] = mapped_column(Text)

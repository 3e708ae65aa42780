"""Stored match suggestions (the engine's ranked pairings) and people's feedback on them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.base import Base, utcnow
from marketplace.models.catalogue import Offer
from marketplace.models.needs import Need

FEEDBACK_DECISIONS = ("accepted", "dismissed", "signed")


class MatchSuggestion(Base):
    """One ranked pairing of a need with an offer, with its score parts and bilingual reasons."""

    __tablename__ = "match_suggestions"
    __table_args__ = (UniqueConstraint("need_id", "offer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float, index=True)
    parts: Mapped[dict] = mapped_column(JSON, default=dict)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Calibrated 0-100 strength (same meaning across needs), the offer leading this one's group of near-duplicates
    # (None for a group's leader) and flags such as "not_certified".
    strength: Mapped[int | None] = mapped_column(Integer)
    similar_to_offer_id: Mapped[int | None] = mapped_column(Integer)
    flags: Mapped[list] = mapped_column(JSON, default=list)

    need: Mapped[Need] = relationship()
    offer: Mapped[Offer] = relationship()


class MatchFeedback(Base):
    """A person's verdict on a pairing; accepted, dismissed and signed pairings train the engine."""

    __tablename__ = "match_feedback"
    __table_args__ = (
        UniqueConstraint("need_id", "offer_id", "user_id"),
        CheckConstraint(f"decision IN {FEEDBACK_DECISIONS}", name="decision"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decision: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

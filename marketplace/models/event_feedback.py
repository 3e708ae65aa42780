"""What an event led to: participants' ratings after it ended, and outcomes recorded months later."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.accounts import User
from marketplace.models.base import Base, TimestampMixin
from marketplace.models.events import Event
from marketplace.models.organizations import Organization

OUTCOME_KINDS = ("introduction", "deal", "investment", "other")


class EventFeedback(TimestampMixin, Base):
    """One participant's rating of an event (1 to 5) with an optional comment; one per person and event."""

    __tablename__ = "event_feedback"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")

    event: Mapped[Event] = relationship()
    user: Mapped[User] = relationship()


class EventOutcome(TimestampMixin, Base):
    """Something the event led to (an introduction, a deal, an investment…), recorded by its organiser or
    an operator, often months later."""

    __tablename__ = "event_outcomes"
    __table_args__ = (
        CheckConstraint(f"kind IN {OUTCOME_KINDS}", name="kind"),
        CheckConstraint("amount_rmb IS NULL OR amount_rmb >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"),
                                                        index=True)
    kind: Mapped[str] = mapped_column(String(12))
    amount_rmb: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    happened_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    event: Mapped[Event] = relationship()
    organization: Mapped[Organization | None] = relationship()
    recorded_by: Mapped[User | None] = relationship()

"""The conversation of an introduction: messages between the two organisations (and their broker), read markers."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.accounts import User
from marketplace.models.base import Base, utcnow
from marketplace.models.brokering import Introduction
from marketplace.models.security import StoredFile

MESSAGE_SIDES = ("need", "offer", "platform")  # platform: the broker or an operator
MESSAGE_MAX_CHARS = 4000


class IntroductionMessage(Base):
    """One message in an introduction's thread; plain text (escaped when shown), optionally one file."""

    __tablename__ = "introduction_messages"
    __table_args__ = (CheckConstraint(f"side IN {MESSAGE_SIDES}", name="side"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    introduction_id: Mapped[int] = mapped_column(ForeignKey("introductions.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    side: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text, default="")
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    report_reason: Mapped[str] = mapped_column(Text, default="")

    introduction: Mapped[Introduction] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    attachment: Mapped[StoredFile | None] = relationship()


class IntroductionReadMarker(Base):
    """How far a person has read an introduction's thread (the last message id they saw)."""

    __tablename__ = "introduction_read_markers"

    introduction_id: Mapped[int] = mapped_column(ForeignKey("introductions.id", ondelete="CASCADE"),
                                                 primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    last_read_message_id: Mapped[int] = mapped_column(Integer, default=0)
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

"""Notifications (in-site and e-mail), people's choices of what they receive, saved searches with match
alerts, and the follow-up ratings asked for some months after a deal was signed or lost."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.accounts import User
from marketplace.models.base import Base, utcnow
from marketplace.models.brokering import Introduction

NOTIFICATION_KINDS = ("introduction", "reply", "stage", "followup_due", "strong_match", "rating_request",
                      "saved_search", "access", "event", "security", "message", "organization", "review",
                      "submission", "meeting", "policy", "survey",
                      # open challenges: verification decisions, questions and proposals for the challenger,
                      # clarifications for solvers, invitations, feedback, awards and the evaluation panel
                      "challenge_review", "challenge_question", "challenge_update", "challenge_invitation",
                      "proposal_feedback", "challenge_awarded", "challenge_panel")
# "email" sends each notification at once; "digest" gathers them into one e-mail a day.
CHANNELS = ("site", "email", "digest")
# "digest": waiting for the daily digest e-mail.
EMAIL_STATES = ("none", "pending", "digest", "sent", "failed")
SAVED_SEARCH_KINDS = ("search", "need_matches")
ALERT_FREQUENCIES = ("immediate", "daily")
RATING_SIDES = ("need", "offer")
RATING_ANSWERS = ("no_contact", "negotiating", "agreement")


class Notification(Base):
    """One message to one person: a message key and parameters, rendered in the reader's language.

    A row exists for every event a person was told about (also when they chose neither channel, so that a
    periodic job never tells them twice); ``in_site`` says whether it shows in their inbox and
    ``email_state`` whether an e-mail is waiting for the sending job, was sent or failed.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(f"kind IN {NOTIFICATION_KINDS}", name="kind"),
        CheckConstraint(f"email_state IN {EMAIL_STATES}", name="email_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    message_key: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    link: Mapped[str] = mapped_column(String(500), default="")
    dedupe_key: Mapped[str | None] = mapped_column(String(120), index=True)
    in_site: Mapped[bool] = mapped_column(Boolean, default=True)
    email_state: Mapped[str] = mapped_column(String(8), default="none", index=True)
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)

    user: Mapped[User] = relationship()

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(Base):
    """A person's choice for one kind of notification on one channel (no row: the default applies)."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "channel"),
        CheckConstraint(f"kind IN {NOTIFICATION_KINDS}", name="kind"),
        CheckConstraint(f"channel IN {CHANNELS}", name="channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(8))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class SavedSearch(Base):
    """A search or a need's "matching offers" view that its owner wants to hear about when it changes."""

    __tablename__ = "saved_searches"
    __table_args__ = (
        CheckConstraint(f"kind IN {SAVED_SEARCH_KINDS}", name="kind"),
        CheckConstraint(f"frequency IN {ALERT_FREQUENCIES}", name="frequency"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(200), default="")
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    frequency: Mapped[str] = mapped_column(String(10), default="daily")
    last_seen_ids: Mapped[list] = mapped_column(JSON, default=list)
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship()


class FollowupRating(Base):
    """One side's answer, some months after signature or loss, on what became of the introduction."""

    __tablename__ = "followup_ratings"
    __table_args__ = (
        UniqueConstraint("introduction_id", "side"),
        CheckConstraint(f"side IN {RATING_SIDES}", name="side"),
        CheckConstraint(f"answer IS NULL OR answer IN {RATING_ANSWERS}", name="answer"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    introduction_id: Mapped[int] = mapped_column(ForeignKey("introductions.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    side: Mapped[str] = mapped_column(String(6))
    outcome: Mapped[str] = mapped_column(String(16))  # the introduction's stage when asked: signed / lost
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    answer: Mapped[str | None] = mapped_column(String(12))
    comment: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    introduction: Mapped[Introduction] = relationship()

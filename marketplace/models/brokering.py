"""Brokered introductions between a need's and an offer's organisations, their deal pipeline and follow-ups."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.accounts import User
from marketplace.models.base import Base, TimestampMixin, utcnow
from marketplace.models.catalogue import Offer
from marketplace.models.needs import Need
from marketplace.models.organizations import Organization

# One state machine: a request (proposed) ends declined, expired or accepted; an accepted introduction
# then moves through the deal pipeline to signed or lost.
REQUEST_STAGES = ("proposed", "declined", "expired")
OPEN_PIPELINE_STAGES = ("accepted", "contacted", "meeting_held", "nda_signed", "pilot", "negotiation")
CLOSED_PIPELINE_STAGES = ("signed", "lost")
PIPELINE_STAGES = OPEN_PIPELINE_STAGES + CLOSED_PIPELINE_STAGES
INTRODUCTION_STAGES = REQUEST_STAGES + PIPELINE_STAGES
RESPONSES = ("pending", "accepted", "declined")
INTRODUCTION_SOURCES = ("suggestion", "manual", "request", "challenge")  # challenge: an award
# Why a member asks for an introduction (the request form's purposes).
REQUEST_PURPOSES = ("purchase", "licence", "transfer", "co_development", "investment", "trial", "testing")
SIDES = ("need", "offer")
LIVE_BROKERED = (f"source <> 'request' AND need_id IS NOT NULL AND offer_id IS NOT NULL "
                 f"AND stage IN {('proposed',) + OPEN_PIPELINE_STAGES}")
EVENT_KINDS = ("proposed", "requested", "response", "stage", "reminder", "value", "task", "task_done", "joined",
               "message")


class Introduction(TimestampMixin, Base):
    """A broker's proposal that a need's organisation and an offer's organisation talk, and the deal after."""

    __tablename__ = "introductions"
    __table_args__ = (
        CheckConstraint(f"stage IN {INTRODUCTION_STAGES}", name="stage"),
        CheckConstraint(f"need_response IN {RESPONSES}", name="need_response"),
        CheckConstraint(f"offer_response IN {RESPONSES}", name="offer_response"),
        CheckConstraint(f"source IN {INTRODUCTION_SOURCES}", name="source"),
        CheckConstraint("deal_value_rmb IS NULL OR deal_value_rmb >= 0", name="deal_value_not_negative"),
        CheckConstraint(f"requester_side IS NULL OR requester_side IN {SIDES}", name="requester_side"),
        CheckConstraint(f"purpose IS NULL OR purpose IN {REQUEST_PURPOSES}", name="purpose"),
        CheckConstraint("need_organization_id <> offer_organization_id", name="two_organizations"),
        # one live brokered introduction per need and offer, even when two proposals are sent at once
        Index("uq_introductions_live_pair", "need_id", "offer_id", unique=True,
              postgresql_where=text(LIVE_BROKERED), sqlite_where=text(LIVE_BROKERED)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Optimistic version: every save through an edit form or the API bumps it; a save that started from an
    # older version is refused instead of silently undoing the other one (services/versions.py).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # A brokered introduction names both; a member's request names the offer, the need, both or neither
    # (a request from an organisation's page).
    need_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), index=True)
    # The two sides as they were when proposed; access and "my introductions" read these.
    need_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"),
                                                      index=True)
    offer_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"),
                                                       index=True)
    broker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(String(12), default="manual")
    # Requests from members: who asked, for which side, why, and whether a broker should mediate.
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    requester_side: Mapped[str | None] = mapped_column(String(6))
    purpose: Mapped[str | None] = mapped_column(String(16))
    mediation_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    message: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[str] = mapped_column(String(16), default="proposed", index=True)
    stage_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    need_response: Mapped[str] = mapped_column(String(10), default="pending")
    need_reason: Mapped[str] = mapped_column(Text, default="")
    need_responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    need_responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    offer_response: Mapped[str] = mapped_column(String(10), default="pending")
    offer_reason: Mapped[str] = mapped_column(Text, default="")
    offer_responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    offer_responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deal_value_rmb: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    lost_reason: Mapped[str] = mapped_column(Text, default="")

    need: Mapped[Need] = relationship()
    offer: Mapped[Offer] = relationship()
    need_organization: Mapped[Organization] = relationship(foreign_keys=[need_organization_id])
    offer_organization: Mapped[Organization] = relationship(foreign_keys=[offer_organization_id])
    broker: Mapped[User | None] = relationship(foreign_keys=[broker_id])
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    events: Mapped[list[IntroductionEvent]] = relationship(
        back_populates="introduction", cascade="all, delete-orphan", passive_deletes=True,
        order_by="IntroductionEvent.id")
    tasks: Mapped[list[IntroductionTask]] = relationship(
        back_populates="introduction", cascade="all, delete-orphan", passive_deletes=True,
        order_by="(IntroductionTask.due_on, IntroductionTask.id)")

    @property
    def is_request(self) -> bool:
        return self.stage == "proposed"

    @property
    def in_pipeline(self) -> bool:
        return self.stage in OPEN_PIPELINE_STAGES

    @property
    def is_live(self) -> bool:
        """Still proposed or in the open pipeline (a second introduction of the same pairing is refused)."""
        return self.stage == "proposed" or self.stage in OPEN_PIPELINE_STAGES

    @property
    def both_accepted(self) -> bool:
        """Both sides said yes: contacts and the conversation are open."""
        return self.stage in PIPELINE_STAGES

    def organization_of(self, side: str) -> Organization:
        return self.need_organization if side == "need" else self.offer_organization

    def identity_hidden(self, side: str) -> bool:
        """A "mediated only" organisation stays anonymous until it has accepted."""
        org = self.organization_of(side)
        return bool(org is not None and org.mediated_only and getattr(self, f"{side}_response") != "accepted")

    def __repr__(self) -> str:
        return f"<Introduction {self.id} need={self.need_id} offer={self.offer_id} {self.stage}>"


class IntroductionEvent(Base):
    """One entry of an introduction's history: who did what, when, from which stage to which, and why."""

    __tablename__ = "introduction_events"
    __table_args__ = (CheckConstraint(f"kind IN {EVENT_KINDS}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    introduction_id: Mapped[int] = mapped_column(ForeignKey("introductions.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10))
    side: Mapped[str] = mapped_column(String(6), default="")  # "need" / "offer": who answered or is reminded
    from_stage: Mapped[str | None] = mapped_column(String(16))
    to_stage: Mapped[str | None] = mapped_column(String(16))
    value_rmb: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    introduction: Mapped[Introduction] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class IntroductionTask(TimestampMixin, Base):
    """A follow-up on an introduction, with a due date and an owner (a member of either side or the broker)."""

    __tablename__ = "introduction_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    introduction_id: Mapped[int] = mapped_column(ForeignKey("introductions.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date] = mapped_column(Date, index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    introduction: Mapped[Introduction] = relationship(back_populates="tasks")
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

"""Online roadshows and Spark events: series, events, agendas, registrations, participant profiles, meeting
windows, 1:1 meetings (with check-in and notes) and follow-ups."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.accounts import User
from marketplace.models.base import Base, TimestampMixin, bilingual, utcnow
from marketplace.models.brokering import Introduction
from marketplace.models.catalogue import Offer
from marketplace.models.organizations import Organization

EVENT_KINDS = ("roadshow", "spark", "other")
EVENT_STATUSES = ("draft", "published", "cancelled", "finished")
AUDIENCES = ("investors", "firms", "hospitals", "banks", "incubators")
REGISTRATION_STATUSES = ("confirmed", "waitlisted", "cancelled")
MEETING_STATUSES = ("pending", "accepted", "declined", "withdrawn", "cancelled", "expired")
INTEREST_KINDS = ("license", "invest", "trial")
FOLLOW_UP_STATUSES = ("open", "introduced", "closed")


class EventSeries(TimestampMixin, Base):
    """A run of events ("High-value patent online roadshows", "Spark technology-transfer events")."""

    __tablename__ = "event_series"
    __table_args__ = (CheckConstraint(f"kind IN {EVENT_KINDS}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default="spark")
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    events: Mapped[list[Event]] = relationship(back_populates="series", order_by="Event.starts_at")

    def name(self, locale: str = "zh") -> str:
        return bilingual(self, "name", locale)


class Event(TimestampMixin, Base):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint(f"kind IN {EVENT_KINDS}", name="kind"),
        CheckConstraint(f"status IN {EVENT_STATUSES}", name="status"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Optimistic version: every save through an edit form or the API bumps it; a save that started from an
    # older version is refused instead of silently undoing the other one (services/versions.py).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    series_id: Mapped[int | None] = mapped_column(ForeignKey("event_series.id", ondelete="SET NULL"), index=True)
    organiser_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="roadshow")
    status: Mapped[str] = mapped_column(String(10), default="draft", index=True)
    title_zh: Mapped[str] = mapped_column(String(300), default="")
    title_en: Mapped[str] = mapped_column(String(300), default="")
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    meeting_url: Mapped[str] = mapped_column(String(500), default="")
    capacity: Mapped[int | None] = mapped_column(Integer)
    registration_deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    audience: Mapped[list] = mapped_column(JSON, default=list)
    # 1:1 meetings: ``meeting_slots`` slots of ``meeting_minutes`` from ``meetings_start_at``, ``meeting_tables`` each
    meetings_start_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    meeting_minutes: Mapped[int] = mapped_column(Integer, default=15)
    meeting_slots: Mapped[int] = mapped_column(Integer, default=0)
    meeting_tables: Mapped[int] = mapped_column(Integer, default=4)
    # At most this many meetings per person (None: no limit); requests wait this many days for an answer.
    max_meetings_per_person: Mapped[int | None] = mapped_column(Integer)
    meeting_request_days: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ics_sequence: Mapped[int] = mapped_column(Integer, default=0)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    series: Mapped[EventSeries | None] = relationship(back_populates="events")
    organiser: Mapped[User | None] = relationship()
    items: Mapped[list[AgendaItem]] = relationship(back_populates="event", cascade="all, delete-orphan",
                                                   passive_deletes=True,
                                                   order_by="(AgendaItem.starts_at, AgendaItem.id)")

    def title(self, locale: str = "zh") -> str:
        return bilingual(self, "title", locale)

    def description(self, locale: str = "zh") -> str:
        return bilingual(self, "description", locale)

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.kind} {self.status}>"


class AgendaItem(TimestampMixin, Base):
    """An offer, a patent or a free-text project on an event's agenda, with its presenter and time slot."""

    __tablename__ = "event_agenda_items"
    __table_args__ = (
        CheckConstraint("offer_id IS NOT NULL OR project_title_zh <> '' OR project_title_en <> ''",
                        name="offer_or_project"),
        CheckConstraint("meeting_capacity >= 0", name="meeting_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id", ondelete="SET NULL"), index=True)
    project_title_zh: Mapped[str] = mapped_column(String(300), default="")
    project_title_en: Mapped[str] = mapped_column(String(300), default="")
    project_summary: Mapped[str] = mapped_column(Text, default="")
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"))
    presenter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    meeting_capacity: Mapped[int] = mapped_column(Integer, default=4)

    event: Mapped[Event] = relationship(back_populates="items")
    offer: Mapped[Offer | None] = relationship()
    organization: Mapped[Organization | None] = relationship()
    presenter: Mapped[User | None] = relationship()

    def title(self, locale: str = "zh") -> str:
        if self.offer is not None:
            return self.offer.title(locale)
        return bilingual(self, "project_title", locale)


class Registration(TimestampMixin, Base):
    """A user's place at an event, or on its waiting list; ``event_cancelled`` tells them it was called off."""

    __tablename__ = "event_registrations"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        CheckConstraint(f"status IN {REGISTRATION_STATUSES}", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="confirmed", index=True)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    promoted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    event_cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    event: Mapped[Event] = relationship()
    user: Mapped[User] = relationship()


class MeetingRequest(TimestampMixin, Base):
    """A participant asks another one (an agenda item's presenter, or anybody registered) for a short 1:1 meeting.

    ``presenter_id`` is the person asked. ``slot`` indexes the event's meeting slots (see
    ``services.events.windows``): chosen by the person asked when accepting, or by the scheduler.
    """

    __tablename__ = "event_meeting_requests"
    __table_args__ = (
        UniqueConstraint("agenda_item_id", "requester_id"),
        CheckConstraint(f"status IN {MEETING_STATUSES}", name="status"),
        CheckConstraint("priority BETWEEN 1 AND 3", name="priority"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("event_agenda_items.id", ondelete="CASCADE"),
                                                       index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    presenter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[int] = mapped_column(Integer, default=2)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    answer_reason: Mapped[str] = mapped_column(Text, default="")
    slot: Mapped[int | None] = mapped_column(Integer)
    table_number: Mapped[int | None] = mapped_column(Integer)
    # The time the person asking proposed (a slot number); the person asked may choose another common one.
    proposed_slot: Mapped[int | None] = mapped_column(Integer)
    # A pending request lapses at this time (the meeting window's start, or some days after asking).
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    requester_checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    presenter_checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set once the meeting ended: the side that did not come while the other checked in.
    no_show_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    event: Mapped[Event] = relationship()
    item: Mapped[AgendaItem | None] = relationship()
    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    presenter: Mapped[User | None] = relationship(foreign_keys=[presenter_id])


class MeetingWindow(Base):
    """A block of 1:1 meeting slots an organiser adds to an event, after the event's own first window.

    Slots are numbered across windows in the order the windows were added (the event's own
    ``meetings_start_at`` / ``meeting_slots`` first), so adding a window never moves a placed meeting.
    """

    __tablename__ = "event_meeting_windows"
    __table_args__ = (
        CheckConstraint("slots > 0", name="slots_positive"),
        CheckConstraint("minutes > 0", name="minutes_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    slots: Mapped[int] = mapped_column(Integer)
    minutes: Mapped[int] = mapped_column(Integer, default=15)


class Participant(TimestampMixin, Base):
    """A registrant's profile for one event: who they are, what they offer and look for, when they are free."""

    __tablename__ = "event_participants"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"))
    headline: Mapped[str] = mapped_column(String(200), default="")
    offers_text: Mapped[str] = mapped_column(Text, default="")
    looks_for_text: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20), default="")       # an organisation kind code
    fields: Mapped[list] = mapped_column(JSON, default=list)        # top-level field codes
    looking_for: Mapped[list] = mapped_column(JSON, default=list)   # purpose codes (licence, investment…)
    meetings_opt_in: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # Slot numbers the person is free in; None means every slot.
    free_slots: Mapped[list | None] = mapped_column(JSON)
    timezone: Mapped[str] = mapped_column(String(64), default="")

    event: Mapped[Event] = relationship()
    user: Mapped[User] = relationship()
    organization: Mapped[Organization | None] = relationship()


class MeetingNote(TimestampMixin, Base):
    """What one side wrote about a meeting; only its author reads it."""

    __tablename__ = "event_meeting_notes"
    __table_args__ = (UniqueConstraint("meeting_id", "author_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("event_meeting_requests.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text, default="")


class EventInterest(TimestampMixin, Base):
    """An attendee's interest in an agenda item or from a 1:1 meeting; it is the follow-up, owned by the item's
    presenter (the other side of the meeting) or a broker. ``offer_id`` is what a meeting's interest is about."""

    __tablename__ = "event_interests"
    __table_args__ = (
        UniqueConstraint("agenda_item_id", "user_id", "kind"),
        UniqueConstraint("meeting_id", "user_id", "kind"),
        CheckConstraint("agenda_item_id IS NOT NULL OR meeting_id IS NOT NULL", name="item_or_meeting"),
        CheckConstraint(f"kind IN {INTEREST_KINDS}", name="kind"),
        CheckConstraint(f"status IN {FOLLOW_UP_STATUSES}", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("event_agenda_items.id", ondelete="CASCADE"),
                                                       index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("event_meeting_requests.id", ondelete="CASCADE"),
                                                   index=True)
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    introduction_id: Mapped[int | None] = mapped_column(ForeignKey("introductions.id", ondelete="SET NULL"))
    closed_reason: Mapped[str] = mapped_column(Text, default="")

    event: Mapped[Event] = relationship()
    item: Mapped[AgendaItem | None] = relationship()
    meeting: Mapped[MeetingRequest | None] = relationship()
    offer: Mapped[Offer | None] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    organization: Mapped[Organization | None] = relationship()
    introduction: Mapped[Introduction | None] = relationship()


class CalendarToken(Base):
    """The secret in a user's personal calendar feed address."""

    __tablename__ = "event_calendar_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

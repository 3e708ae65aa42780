"""Reads of events and event series, participant lists and personal agendas."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.models import Event, EventSeries, Organization, User
from marketplace.models.events import AgendaItem, MeetingRequest, Participant
from marketplace.queries.paging import Page, slice_page, valid_id
from marketplace.services import events as event_service  # the events' own visibility rule
from marketplace.services.errors import NotFound


def get_event(viewer, event_id: int) -> Event:
    """The event if ``viewer`` may see it, else NotFound."""
    event = db.session.get(Event, event_id) if valid_id(event_id) else None
    return event_service.require_view(viewer, event)


def get_series(series_id: int) -> EventSeries:
    """The event series (series pages are public), or NotFound."""
    series = db.session.get(EventSeries, series_id) if valid_id(series_id) else None
    if series is None:
        raise NotFound(_l("This record does not exist or is not visible to you."))
    return series


def list_events(viewer, *, kind: str | None = None, status: str | None = None, upcoming: bool = False,
                page: int = 1, per_page: int) -> Page:
    """Events ``viewer`` may see (published ones, and organisers' own drafts), latest first, filtered."""
    rows = event_service.visible_events(viewer)
    if kind:
        rows = [e for e in rows if e.kind == kind]
    if status:
        rows = [e for e in rows if e.status == status]
    if upcoming:
        # Compared in Python: SQLite keeps naive UTC times, the service knows how to read them.
        now = datetime.now(UTC)
        rows = [e for e in rows if event_service.aware(e.ends_at) >= now]
    return slice_page(rows, page, per_page)


# --- participants and personal agendas ----------------------------------------------------------------

@dataclass
class ParticipantRow:
    """One person on an event's participant list: the user, their organisation and their event profile."""
    user: User
    organization: Organization | None
    profile: Participant | None
    presenter: bool = False

    @property
    def kind(self) -> str:
        if self.profile is not None and self.profile.kind:
            return self.profile.kind
        return self.organization.kind if self.organization is not None else ""

    @property
    def fields(self) -> list[str]:
        return list(self.profile.fields or []) if self.profile is not None else []

    @property
    def looking_for(self) -> list[str]:
        return list(self.profile.looking_for or []) if self.profile is not None else []

    @property
    def meets(self) -> bool:
        return self.profile is None or self.profile.meetings_opt_in

    def text(self) -> str:
        parts = [self.user.display_name]
        if self.organization is not None:
            parts += [self.organization.name_zh, self.organization.name_en or ""]
        if self.profile is not None:
            parts += [self.profile.headline, self.profile.offers_text, self.profile.looks_for_text]
        return " ".join(parts).lower()


def _rows(event: Event) -> list[ParticipantRow]:
    ids = event_service.participant_ids(event)
    if not ids:
        return []
    users = list(db.session.scalars(select(User).where(User.id.in_(ids), User.active.is_(True))
                                    .order_by(User.display_name, User.id)))
    profiles = {p.user_id: p for p in db.session.scalars(select(Participant).where(
        Participant.event_id == event.id).options(selectinload(Participant.organization)))}
    presenters = {i.presenter_id for i in event.items if i.presenter_id}
    rows = []
    for user in users:
        profile = profiles.get(user.id)
        org = profile.organization if profile is not None and profile.organization is not None else (
            user.organizations[0] if user.organizations else None)
        rows.append(ParticipantRow(user, org, profile, user.id in presenters))
    return rows


def participants(viewer, event: Event, *, q: str = "", kind: str = "", field: str = "",
                 looking_for: str = "") -> list[ParticipantRow]:
    """The event's participants (registrants and presenters) for a participant or its organiser, filtered by
    words, kind of organisation, field and what they look for."""
    event_service.require_participants_view(viewer, event)
    rows = _rows(event)
    words = [w for w in (q or "").lower().split() if w]
    if words:
        rows = [r for r in rows if all(w in r.text() for w in words)]
    if kind:
        rows = [r for r in rows if r.kind == kind]
    if field:
        rows = [r for r in rows if field in r.fields]
    if looking_for:
        rows = [r for r in rows if looking_for in r.looking_for]
    return rows


def participant(viewer, event: Event, user_id: int) -> ParticipantRow:
    """One participant's card, or NotFound."""
    event_service.require_participants_view(viewer, event)
    row = next((r for r in _rows(event) if r.user.id == user_id), None) if valid_id(user_id) else None
    if row is None:
        raise NotFound(_l("This participant does not exist."))
    return row


def viewer_zone(viewer, event: Event) -> str:
    """The zone a person reads the event's times in: their event profile's, else the event's."""
    profile = event_service.profile_of(event, getattr(viewer, "id", None))
    return profile.timezone if profile is not None and profile.timezone else event.timezone


@dataclass
class SlotRow:
    number: int
    starts: datetime   # in the viewer's zone
    ends: datetime


def slot_rows(event: Event, viewer) -> list[SlotRow]:
    """Every meeting slot with its times in the viewer's zone."""
    tz = viewer_zone(viewer, event)
    return [SlotRow(n, event_service.local(start, tz), event_service.local(end, tz))
            for n, (start, end) in enumerate(event_service.slot_times(event))]


def other_party(meeting: MeetingRequest, viewer_id: int | None) -> User | None:
    """The other person of a meeting, seen from ``viewer_id``."""
    return meeting.presenter if viewer_id == meeting.requester_id else meeting.requester


@dataclass
class AgendaEntry:
    """One line of a personal agenda: a talk or a meeting, at a time."""
    kind: str                      # "talk" or "meeting"
    starts: datetime | None        # in the viewer's zone
    ends: datetime | None
    item: AgendaItem | None = None
    meeting: MeetingRequest | None = None
    presenting: bool = False
    other: User | None = None
    video: str = ""
    note: str = ""
    offers: list = field(default_factory=list)


def my_agenda(viewer, event: Event) -> dict:
    """A person's schedule at the event: talks (those they give marked), their booked meetings in time order
    with table or video link and their own note, accepted meetings still without a time, and open requests."""
    event_service.require_participants_view(viewer, event)
    tz = viewer_zone(viewer, event)
    entries: list[AgendaEntry] = []
    for item in event.items:
        entries.append(AgendaEntry("talk", event_service.local(item.starts_at, tz),
                                   event_service.local(item.ends_at, tz), item=item,
                                   presenting=item.presenter_id == viewer.id))
    waiting, incoming, outgoing = [], [], []
    for m in event_service.my_meetings(viewer, event):
        other = other_party(m, viewer.id)
        if m.status == "accepted" and event_service.meeting_time(event, m.slot) is not None:
            entries.append(AgendaEntry("meeting", event_service.local(event_service.meeting_time(event, m.slot), tz),
                                       event_service.local(event_service.meeting_end(event, m.slot), tz),
                                       item=m.item, meeting=m, other=other,
                                       video=event_service.video_link(event, m),
                                       note=event_service.note_of(viewer, m),
                                       offers=event_service.interest_offers(viewer, m)))
        elif m.status == "accepted":
            waiting.append(m)
        elif m.status == "pending":
            (incoming if m.presenter_id == viewer.id else outgoing).append(m)
    entries.sort(key=lambda e: (e.starts is None, e.starts or datetime.min.replace(tzinfo=UTC)))
    common = {m.id: event_service.common_slots(event, m.requester_id, m.presenter_id, exclude_meeting_id=m.id)
              for m in incoming + [e.meeting for e in entries if e.meeting is not None]}
    registration = event_service.registration_of(viewer, event)
    return {"entries": entries, "waiting": waiting, "incoming": incoming, "outgoing": outgoing, "zone": tz,
            "common": common, "slots": {s.number: s for s in slot_rows(event, viewer)},
            "registration": registration, "participant": event_service.is_participant(viewer, event)}

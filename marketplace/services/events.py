"""Online roadshows and Spark events: scheduling, agendas, registration with a waiting list, calendars,
reminders, 1:1 meetings, interests that become tracked follow-ups, event reports and series totals.

Services take plain data, check access, validate, raise DomainError subclasses and only flush; the caller's
unit of work commits. Times are stored in UTC; each event keeps the IANA time zone it is shown in.
"""
from __future__ import annotations

import secrets
from collections import Counter
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from marketplace import jobs
from marketplace.extensions import db
from marketplace.models import (AgendaItem, CalendarToken, Event, EventInterest, EventSeries, Introduction,
                                MatchSuggestion, MeetingRequest, Membership, Need, Offer, Organization, PatentDetail,
                                Registration, User)
from marketplace.models.brokering import OPEN_PIPELINE_STAGES
from marketplace.models.events import AUDIENCES, EVENT_KINDS, INTEREST_KINDS
from marketplace.services import access, brokering
from marketplace.services import event_scheduling as scheduling
from marketplace.services.cleaning import Cleaner
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.visibility import EVENT_OPEN

DEFAULT_TZ = "Asia/Shanghai"
REMINDER_JOB = "events.send_reminders"
REMINDER_HOURS = 24
KIND_LABELS = {"roadshow": _l("Roadshow"), "spark": _l("Spark event"), "other": _l("Other event")}
STATUS_LABELS = {"draft": _l("Draft"), "published": _l("Published"), "cancelled": _l("Cancelled"),
                 "finished": _l("Finished")}
AUDIENCE_LABELS = {"investors": _l("Investors"), "firms": _l("Firms"), "hospitals": _l("Hospitals"),
                   "banks": _l("Banks"), "incubators": _l("Incubators")}
REGISTRATION_LABELS = {"confirmed": _l("Registered"), "waitlisted": _l("On the waiting list"),
                       "cancelled": _l("Cancelled")}
MEETING_LABELS = {"pending": _l("Waiting for the presenter"), "accepted": _l("Accepted"),
                  "declined": _l("Declined"), "withdrawn": _l("Withdrawn")}
PRIORITY_LABELS = {1: _l("Nice to have"), 2: _l("Important"), 3: _l("Essential")}
INTEREST_LABELS = {"license": _l("Want to license"), "invest": _l("Want to invest"), "trial": _l("Want a trial")}
FOLLOW_UP_LABELS = {"open": _l("Open"), "introduced": _l("Introduction proposed"), "closed": _l("Closed")}


def _now() -> datetime:
    return datetime.now(timezone.utc)


aware = brokering.aware


def _uid(user) -> int | None:
    return getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None


def _require_login(user) -> None:
    if _uid(user) is None:
        raise PermissionDenied(_l("Please log in first."))


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- telling people -----------------------------------------------------------------------------------

def _tell(user_ids, key: str, event: Event, link: str = "") -> bool:
    """Notify through ``services.notifications`` once it knows an ``event`` kind and the message ``key``.

    Until then (the notification kinds are fixed by a CHECK constraint owned by the notifications module) the
    records themselves carry the news: ``Registration.event_cancelled`` / ``promoted_at`` / ``reminded_at`` and the
    meeting's slot, all shown on the person's events pages. Returns whether notifications were created.
    """
    try:
        from marketplace.models.notifications import NOTIFICATION_KINDS
        from marketplace.services import notifications
    except ImportError:  # pragma: no cover - the notifications module is optional
        return False
    if "event" not in NOTIFICATION_KINDS or key not in notifications.MESSAGES:
        return False
    notifications.notify(user_ids, "event", key, {"title": {"zh": event.title("zh"), "en": event.title("en")},
                                                  "reason": event.cancel_reason or ""},
                         link or f"/events/{event.id}", dedupe_key=f"{key}:{event.id}")
    return True


# --- access -------------------------------------------------------------------------------------------

def is_organiser(user) -> bool:
    return _uid(user) is not None and user.has_role("organiser", "operator")


def can_manage(user, event: Event) -> bool:
    """The event's organiser, and operators / admins."""
    return _uid(user) is not None and (access.is_staff(user) or (is_organiser(user)
                                                                 and event.organiser_id == user.id))


def can_view(user, event: Event) -> bool:
    """Published events for everybody; drafts for their organiser and operators (``visibility``)."""
    return EVENT_OPEN.allows(user, event)


def require_view(user, event: Event | None) -> Event:
    if event is None or not can_view(user, event):
        raise NotFound(_l("This event does not exist or is not published."))
    return event


def require_manage(user, event: Event | None) -> Event:
    event = require_view(user, event)
    if not can_manage(user, event):
        raise PermissionDenied(_l("Only the event's organiser or an operator may do this."))
    return event


def get(user, event_id) -> Event:
    return require_view(user, db.session.get(Event, _int(event_id) or 0))


def get_item(user, event: Event, item_id) -> AgendaItem:
    item = db.session.get(AgendaItem, _int(item_id) or 0)
    if item is None or item.event_id != event.id:
        raise NotFound(_l("This agenda item does not exist."))
    return item


def visible_events(user, *, series_id: int | None = None) -> list[Event]:
    query = select(Event).options(selectinload(Event.series)).where(EVENT_OPEN.clause(user))
    if series_id:
        query = query.where(Event.series_id == series_id)
    return list(db.session.scalars(query.order_by(Event.starts_at.desc(), Event.id.desc())))


# --- time zones ---------------------------------------------------------------------------------------

def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TZ)


def local(value: datetime | None, tz_name: str | None) -> datetime | None:
    """A stored (UTC) time in the named zone."""
    return aware(value).astimezone(zone(tz_name)) if value is not None else None


def _parse_local(c: Cleaner, key: str, tz: ZoneInfo, *, required: bool) -> datetime | None:
    """``YYYY-MM-DDTHH:MM`` (a datetime-local input) in ``tz`` -> aware UTC."""
    value = c.data.get(key)
    if isinstance(value, datetime):
        parsed = value if value.tzinfo else value.replace(tzinfo=tz)
        return parsed.astimezone(timezone.utc)
    text = (str(value).strip() if value is not None else "").replace(" ", "T")
    if not text:
        if required:
            c.error(key, _l("This field is required."))
        return None
    try:
        parsed = datetime.fromisoformat(text[:16])
    except ValueError:
        c.error(key, _l("Enter a date and time as YYYY-MM-DD HH:MM."))
        return None
    return parsed.replace(tzinfo=tz).astimezone(timezone.utc)


# --- series and events --------------------------------------------------------------------------------

def create_series(user, data: dict) -> EventSeries:
    if not is_organiser(user):
        raise PermissionDenied(_l("Only organisers create event series."))
    c = Cleaner(data)
    c.choice("kind", EVENT_KINDS, required=True)
    c.text("name_zh", max_length=200)
    c.text("name_en", max_length=200)
    if not (c.values["name_zh"] or c.values["name_en"]):
        c.error("name_zh", _l("Give a name in Chinese or English."))
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=c.errors)
    series = EventSeries(kind=c.values["kind"], name_zh=c.values["name_zh"] or c.values["name_en"],
                         name_en=c.values["name_en"], created_by_id=user.id)
    db.session.add(series)
    db.session.flush()
    return series


def all_series() -> list[EventSeries]:
    return list(db.session.scalars(select(EventSeries).order_by(EventSeries.kind, EventSeries.id)))


def _clean_event(data: dict) -> dict:
    c = Cleaner(data)
    c.choice("kind", EVENT_KINDS, required=True)
    for key, n in (("title_zh", 300), ("title_en", 300), ("description_zh", 20000), ("description_en", 20000)):
        c.text(key, max_length=n)
    if not (c.values["title_zh"] or c.values["title_en"]):
        c.error("title_zh", _l("Give a title in Chinese or English."))
    tz_name = (data.get("timezone") or DEFAULT_TZ).strip()
    if tz_name not in available_timezones():
        c.error("timezone", _l("Unknown time zone."))
        tz_name = DEFAULT_TZ
    c.values["timezone"] = tz_name
    tz = ZoneInfo(tz_name)
    starts = _parse_local(c, "starts_at", tz, required=True)
    ends = _parse_local(c, "ends_at", tz, required=True)
    deadline = _parse_local(c, "registration_deadline", tz, required=False)
    meetings_start = _parse_local(c, "meetings_start_at", tz, required=False)
    if starts and ends and ends <= starts:
        c.error("ends_at", _l("The end must be after the start."))
    if deadline and starts and deadline > starts:
        c.error("registration_deadline", _l("Registration must close before the event starts."))
    c.values.update(starts_at=starts, ends_at=ends, registration_deadline=deadline, meetings_start_at=meetings_start)
    url = c.text("meeting_url", max_length=500)
    if url and not url.startswith(("https://", "http://")):
        c.error("meeting_url", _l("Enter a web address starting with https://."))
    c.integer("capacity", min_value=1, max_value=100000)
    c.choices("audience", AUDIENCES)
    c.integer("meeting_minutes", min_value=5, max_value=120)
    c.integer("meeting_slots", min_value=0, max_value=48)
    c.integer("meeting_tables", min_value=1, max_value=200)
    series_id = c.integer("series_id", min_value=1)
    if series_id and db.session.get(EventSeries, series_id) is None:
        c.error("series_id", _l("Unknown series."))
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=c.errors)
    values = dict(c.values)
    values["title_zh"] = values["title_zh"] or values["title_en"]
    for key, default in (("meeting_minutes", 15), ("meeting_slots", 0), ("meeting_tables", 4)):
        if values[key] is None:
            values[key] = default
    return values


def create_event(user, data: dict) -> Event:
    if not is_organiser(user):
        raise PermissionDenied(_l("Only organisers schedule events."))
    values = _clean_event(data)
    event = Event(organiser_id=user.id, status="draft", **values)
    db.session.add(event)
    db.session.flush()
    return event


def update_event(user, event: Event, data: dict) -> Event:
    require_manage(user, event)
    if event.status in ("cancelled", "finished"):
        raise Conflict(_l("A cancelled or finished event can no longer be changed."))
    values = _clean_event(data)
    for key, value in values.items():
        setattr(event, key, value)
    event.ics_sequence = (event.ics_sequence or 0) + 1
    db.session.flush()
    return event


def event_form_data(event: Event) -> dict:
    """An event as the form's plain data (times in its own zone)."""
    def fmt(value):
        return local(value, event.timezone).strftime("%Y-%m-%dT%H:%M") if value else ""
    data = {k: getattr(event, k) for k in ("kind", "title_zh", "title_en", "description_zh", "description_en",
                                           "timezone", "meeting_url", "capacity", "meeting_minutes",
                                           "meeting_slots", "meeting_tables", "series_id")}
    data.update(starts_at=fmt(event.starts_at), ends_at=fmt(event.ends_at),
                registration_deadline=fmt(event.registration_deadline),
                meetings_start_at=fmt(event.meetings_start_at), audience=list(event.audience or []))
    return {k: ("" if v is None else v) for k, v in data.items()}


def publish(user, event: Event) -> Event:
    require_manage(user, event)
    if event.status != "draft":
        raise Conflict(_l("Only a draft can be published."))
    if aware(event.ends_at) <= _now():
        raise Conflict(_l("This event is already over."))
    event.status = "published"
    event.published_at = _now()
    db.session.flush()
    return event


def cancel(user, event: Event, reason: str) -> Event:
    """Call the event off; every registrant and waiting-list entry is told (on their events page)."""
    require_manage(user, event)
    if event.status not in ("draft", "published"):
        raise Conflict(_l("Only a draft or published event can be cancelled."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("Tell the registrants why the event is cancelled."),
                               field_errors={"reason": _l("This field is required.")})
    event.status = "cancelled"
    event.cancel_reason = reason[:2000]
    event.ics_sequence = (event.ics_sequence or 0) + 1
    told = []
    for reg in db.session.scalars(select(Registration).where(Registration.event_id == event.id,
                                                             Registration.status != "cancelled")):
        reg.event_cancelled = True
        told.append(reg.user_id)
    db.session.flush()
    _tell(told, "event_cancelled", event, "/events/mine")
    return event


def finish(user, event: Event) -> Event:
    require_manage(user, event)
    if event.status != "published":
        raise Conflict(_l("Only a published event can be marked finished."))
    event.status = "finished"
    db.session.flush()
    return event


# --- agenda -------------------------------------------------------------------------------------------

def catalogue_candidates(user, q: str = "", limit: int = 20) -> list[Offer]:
    """Published offers to put on an agenda: by number, or title words; high-value patents first."""
    query = (select(Offer).outerjoin(PatentDetail, PatentDetail.offer_id == Offer.id)
             .where(access.offer_visibility_clause(user), Offer.status == "published", Offer.kind != "financial"))
    q = (q or "").strip()[:100]
    if q.isdigit():
        query = query.where(Offer.id == int(q))
    elif q:
        like = f"%{q}%"
        query = query.where(or_(Offer.title_zh.ilike(like), Offer.title_en.ilike(like)))
    else:
        query = query.where(PatentDetail.curation_stage == "high_value")
    query = query.order_by((PatentDetail.curation_stage == "high_value").desc(),
                           PatentDetail.value_score.desc().nulls_last(), Offer.id).limit(limit)
    return list(db.session.scalars(query.options(selectinload(Offer.organization), selectinload(Offer.patent))))


def add_item(user, event: Event, data: dict) -> AgendaItem:
    require_manage(user, event)
    if event.status in ("cancelled", "finished"):
        raise Conflict(_l("A cancelled or finished event can no longer be changed."))
    c = Cleaner(data)
    offer_id = c.integer("offer_id", min_value=1)
    c.text("project_title_zh", max_length=300)
    c.text("project_title_en", max_length=300)
    c.text("project_summary", max_length=5000)
    presenter_id = c.integer("presenter_id", min_value=1)
    c.integer("meeting_capacity", min_value=0, max_value=48)
    tz = zone(event.timezone)
    starts = _parse_local(c, "starts_at", tz, required=True)
    ends = _parse_local(c, "ends_at", tz, required=True)
    offer = None
    if offer_id:
        offer = db.session.get(Offer, offer_id)
        if offer is None or offer.status != "published" or not access.can_view_offer(user, offer):
            c.error("offer_id", _l("No published offer has this number."))
    elif not (c.values["project_title_zh"] or c.values["project_title_en"]):
        c.error("offer_id", _l("Pick an offer or patent, or describe a project."))
    presenter = db.session.get(User, presenter_id) if presenter_id else None
    if presenter_id and presenter is None:
        c.error("presenter_id", _l("Unknown user."))
    if starts and ends:
        if ends <= starts:
            c.error("ends_at", _l("The end must be after the start."))
        elif starts < aware(event.starts_at) or ends > aware(event.ends_at):
            c.error("starts_at", _l("The time slot must lie within the event."))
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=c.errors)
    org_id = offer.organization_id if offer else None
    if org_id is None and presenter is not None and presenter.org_ids:
        org_id = min(presenter.org_ids)
    item = AgendaItem(event_id=event.id, offer_id=offer.id if offer else None, presenter_id=presenter_id,
                      project_title_zh=c.values["project_title_zh"], project_title_en=c.values["project_title_en"],
                      project_summary=c.values["project_summary"], organization_id=org_id, starts_at=starts,
                      ends_at=ends, meeting_capacity=c.values["meeting_capacity"]
                      if c.values["meeting_capacity"] is not None else 4)
    db.session.add(item)
    event.ics_sequence = (event.ics_sequence or 0) + 1
    db.session.flush()
    return item


def remove_item(user, event: Event, item: AgendaItem) -> None:
    require_manage(user, event)
    if item.event_id != event.id:
        raise NotFound(_l("This agenda item does not exist."))
    db.session.delete(item)
    db.session.flush()


def presenter_choices(event: Event) -> list[User]:
    """Active members of organisations (the people who can present an offer or a project)."""
    return list(db.session.scalars(select(User).where(User.active.is_(True), User.id.in_(
        select(Membership.user_id))).options(selectinload(User.memberships)).order_by(User.display_name)
        .limit(500)))


def attendance_suggestions(user, item: AgendaItem, limit: int = 8) -> dict:
    """Who should attend for this item: organisations whose open needs the matching engine pairs with the
    item's offer, and funders whose financial products fit the presenting organisation's financing needs."""
    firms, funders = [], []
    if item.offer_id:
        rows = db.session.execute(
            select(Organization, func.max(MatchSuggestion.score), func.count(MatchSuggestion.id))
            .join(Need, Need.organization_id == Organization.id)
            .join(MatchSuggestion, MatchSuggestion.need_id == Need.id)
            .where(MatchSuggestion.offer_id == item.offer_id, Need.status.in_(("open", "matched")),
                   access.need_visibility_clause(user))
            .group_by(Organization.id).order_by(func.max(MatchSuggestion.score).desc()).limit(limit)).all()
        firms = [{"organization": org, "score": score, "needs": n} for org, score, n in rows]
    if item.organization_id:
        rows = db.session.execute(
            select(Organization, func.max(MatchSuggestion.score))
            .join(Offer, Offer.organization_id == Organization.id)
            .join(MatchSuggestion, MatchSuggestion.offer_id == Offer.id)
            .join(Need, Need.id == MatchSuggestion.need_id)
            .where(Need.organization_id == item.organization_id, Need.kind == "financing",
                   Offer.kind == "financial", Offer.status == "published")
            .group_by(Organization.id).order_by(func.max(MatchSuggestion.score).desc()).limit(limit)).all()
        funders = [{"organization": org, "score": score} for org, score in rows]
        if not funders:  # no financing need yet: funders whose products are published, for a general fit
            rows = db.session.scalars(select(Organization).where(
                Organization.kind.in_(("bank", "guarantee", "vc")),
                Organization.id.in_(select(Offer.organization_id).where(Offer.kind == "financial",
                                                                        Offer.status == "published")))
                .order_by(Organization.id).limit(3))
            funders = [{"organization": org, "score": None} for org in rows]
    return {"firms": firms, "funders": funders}


# --- registration -------------------------------------------------------------------------------------

def registration_of(user, event: Event) -> Registration | None:
    if _uid(user) is None:
        return None
    return db.session.scalar(select(Registration).where(Registration.event_id == event.id,
                                                        Registration.user_id == user.id))


def confirmed_count(event: Event) -> int:
    return db.session.scalar(select(func.count(Registration.id)).where(
        Registration.event_id == event.id, Registration.status == "confirmed")) or 0


def register(user, event: Event) -> Registration:
    """A place if one is free, else the waiting list (in order of registration)."""
    _require_login(user)
    require_view(user, event)
    if event.status != "published":
        raise Conflict(_l("Registration is open only for published events."))
    now = _now()
    if event.registration_deadline and aware(event.registration_deadline) < now:
        raise Conflict(_l("Registration for this event has closed."))
    if aware(event.starts_at) <= now:
        raise Conflict(_l("This event has already started."))
    reg = registration_of(user, event)
    if reg is not None and reg.status != "cancelled":
        raise Conflict(_l("You are already registered for this event."))
    full = event.capacity is not None and confirmed_count(event) >= event.capacity
    status = "waitlisted" if full else "confirmed"
    if reg is None:
        reg = Registration(event_id=event.id, user_id=user.id)
        db.session.add(reg)
    reg.status, reg.registered_at, reg.cancelled_at = status, now, None
    reg.confirmed_at = now if status == "confirmed" else None
    db.session.flush()
    return reg


def cancel_registration(user, event: Event) -> Registration:
    """Give the place back; the first on the waiting list gets it."""
    _require_login(user)
    reg = registration_of(user, event)
    if reg is None or reg.status == "cancelled":
        raise Conflict(_l("You are not registered for this event."))
    was_confirmed = reg.status == "confirmed"
    reg.status, reg.cancelled_at = "cancelled", _now()
    db.session.flush()
    if was_confirmed:
        promote_waiting(event)
    return reg


def promote_waiting(event: Event) -> list[Registration]:
    """Fill free places from the waiting list, first come first served."""
    promoted = []
    free = None if event.capacity is None else event.capacity - confirmed_count(event)
    waiting = db.session.scalars(select(Registration).where(
        Registration.event_id == event.id, Registration.status == "waitlisted")
        .order_by(Registration.registered_at, Registration.id))
    for reg in waiting:
        if free is not None and free <= 0:
            break
        reg.status, reg.confirmed_at, reg.promoted_at = "confirmed", _now(), _now()
        promoted.append(reg)
        free = None if free is None else free - 1
    db.session.flush()
    if promoted:
        _tell([r.user_id for r in promoted], "event_promoted", event)
    return promoted


def waiting_position(reg: Registration) -> int | None:
    if reg.status != "waitlisted":
        return None
    return db.session.scalar(select(func.count(Registration.id)).where(
        Registration.event_id == reg.event_id, Registration.status == "waitlisted",
        or_(Registration.registered_at < reg.registered_at,
            (Registration.registered_at == reg.registered_at) & (Registration.id <= reg.id))))


def my_registrations(user) -> list[Registration]:
    _require_login(user)
    return list(db.session.scalars(select(Registration).join(Event).where(Registration.user_id == user.id)
                                   .options(selectinload(Registration.event))
                                   .order_by(Event.starts_at.desc())))


def registrants(user, event: Event) -> list[Registration]:
    require_manage(user, event)
    return list(db.session.scalars(select(Registration).where(Registration.event_id == event.id)
                                   .options(selectinload(Registration.user))
                                   .order_by(Registration.status, Registration.registered_at)))


def is_attendee(user, event: Event) -> bool:
    reg = registration_of(user, event)
    return reg is not None and reg.status == "confirmed"


def may_see_meeting_link(user, event: Event) -> bool:
    """The online meeting link is for confirmed registrants, presenters and the event's managers."""
    if _uid(user) is None:
        return False
    return (is_attendee(user, event) or can_manage(user, event)
            or any(item.presenter_id == user.id for item in event.items))


# --- reminders (job) ----------------------------------------------------------------------------------

@jobs.job(REMINDER_JOB)
def send_reminders(now: datetime | None = None, hours: int = REMINDER_HOURS) -> dict:
    """Mark a reminder for every confirmed registrant of a published event starting within ``hours``."""
    now = now or _now()
    due = list(db.session.scalars(select(Registration).join(Event).where(
        Event.status == "published", Event.starts_at > now, Event.starts_at <= now + timedelta(hours=hours),
        Registration.status == "confirmed", Registration.reminded_at.is_(None))))
    for reg in due:
        reg.reminded_at = now
    for event_id in {reg.event_id for reg in due}:
        _tell([r.user_id for r in due if r.event_id == event_id], "event_reminder", db.session.get(Event, event_id))
    db.session.commit()  # a job is its own unit of work
    return {"reminded": len(due)}


# --- calendars ----------------------------------------------------------------------------------------

def calendar_token(user) -> str:
    _require_login(user)
    row = db.session.scalar(select(CalendarToken).where(CalendarToken.user_id == user.id))
    if row is None:
        row = CalendarToken(user_id=user.id, token=secrets.token_urlsafe(24))
        db.session.add(row)
        db.session.flush()
    return row.token


def user_for_token(token: str) -> User | None:
    row = db.session.scalar(select(CalendarToken).where(CalendarToken.token == (token or "")[:64]))
    return db.session.get(User, row.user_id) if row else None


def _ics_text(value: str) -> str:
    return (value or "").replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r", "") \
        .replace("\n", "\\n")


def _ics_time(value: datetime) -> str:
    return aware(value).astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> list[str]:
    """RFC 5545: lines of at most 75 octets, continuation lines start with a space."""
    out, current = [], ""
    for ch in line:
        if len((current + ch).encode()) > (75 if not out else 74):
            out.append(current)
            current = ch
        else:
            current += ch
    out.append(current)
    return [out[0]] + [" " + part for part in out[1:]]


def ics(events: list[tuple[Event, list[MeetingRequest]]], host: str, lang: str = "zh", name: str = "",
        *, links: bool = True) -> str:
    """An iCalendar document with one VEVENT per event (and one per scheduled 1:1 meeting); ``links=False``
    leaves out the online meeting link (for people who may not see it, see ``may_see_meeting_link``)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//TechBridge//Events//EN", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH"]
    if name:
        lines.append(f"X-WR-CALNAME:{_ics_text(name)}")
    stamp = _ics_time(_now())
    for event, meetings in events:
        status = "CANCELLED" if event.status == "cancelled" else "CONFIRMED"
        lines += ["BEGIN:VEVENT", f"UID:event-{event.id}@{host}", f"DTSTAMP:{stamp}",
                  f"DTSTART:{_ics_time(event.starts_at)}", f"DTEND:{_ics_time(event.ends_at)}",
                  f"SEQUENCE:{event.ics_sequence or 0}", f"STATUS:{status}",
                  f"SUMMARY:{_ics_text(event.title(lang))}",
                  f"DESCRIPTION:{_ics_text(event.description(lang))}"]
        if event.meeting_url and links:
            lines += [f"URL:{event.meeting_url}", f"LOCATION:{_ics_text(event.meeting_url)}"]
        lines.append("END:VEVENT")
        for m in meetings:
            start = meeting_time(event, m.slot)
            if start is None:
                continue
            lines += ["BEGIN:VEVENT", f"UID:meeting-{m.id}@{host}", f"DTSTAMP:{stamp}",
                      f"DTSTART:{_ics_time(start)}",
                      f"DTEND:{_ics_time(start + timedelta(minutes=event.meeting_minutes))}",
                      f"SUMMARY:{_ics_text('1:1 ' + m.item.title(lang))}",
                      f"DESCRIPTION:{_ics_text(m.reason)}", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "\r\n".join(part for line in lines for part in _fold(line)) + "\r\n"


def feed_events(user) -> list[tuple[Event, list[MeetingRequest]]]:
    """The user's registered (not cancelled) events and their scheduled meetings, for the personal feed."""
    regs = db.session.scalars(select(Registration).where(Registration.user_id == user.id,
                                                         Registration.status == "confirmed"))
    out = []
    for reg in regs:
        event = reg.event
        if event.status == "draft":
            continue
        out.append((event, my_meetings(user, event, scheduled_only=True)))
    return out


# --- 1:1 meetings -------------------------------------------------------------------------------------

def meeting_time(event: Event, slot: int | None) -> datetime | None:
    if slot is None:
        return None
    base = aware(event.meetings_start_at or event.ends_at)
    return base + timedelta(minutes=event.meeting_minutes * slot)


def request_meeting(user, event: Event, item: AgendaItem, reason: str, priority=2) -> MeetingRequest:
    _require_login(user)
    require_view(user, event)
    if item.event_id != event.id:
        raise NotFound(_l("This agenda item does not exist."))
    if event.status != "published":
        raise Conflict(_l("Meetings can be requested only for published events."))
    if not is_attendee(user, event):
        raise PermissionDenied(_l("Register for the event first."))
    if event.meeting_slots <= 0:
        raise Conflict(_l("This event has no 1:1 meeting slots."))
    if item.presenter_id is None:
        raise Conflict(_l("This item has no presenter yet."))
    if item.presenter_id == user.id:
        raise ValidationFailed(_l("You present this item yourself."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("Tell the presenter why you want to meet."),
                               field_errors={"reason": _l("This field is required.")})
    priority = _int(priority)
    if priority not in PRIORITY_LABELS:
        raise ValidationFailed(_l("Unknown priority."), field_errors={"priority": _l("Unknown priority.")})
    existing = db.session.scalar(select(MeetingRequest).where(MeetingRequest.agenda_item_id == item.id,
                                                              MeetingRequest.requester_id == user.id))
    if existing is not None and existing.status != "withdrawn":
        raise Conflict(_l("You have already asked for a meeting about this item."))
    if existing is None:
        existing = MeetingRequest(event_id=event.id, agenda_item_id=item.id, requester_id=user.id)
        db.session.add(existing)
    existing.presenter_id, existing.reason, existing.priority = item.presenter_id, reason[:2000], priority
    existing.status, existing.slot, existing.table_number, existing.answer_reason = "pending", None, None, ""
    db.session.flush()
    return existing


def answer_meeting(user, meeting: MeetingRequest, decision: str, reason: str = "") -> MeetingRequest:
    """The presenter accepts or declines (a decline may give a reason)."""
    _require_login(user)
    if meeting.presenter_id != user.id and not can_manage(user, meeting.event):
        raise NotFound(_l("This meeting request does not exist."))
    if meeting.status != "pending":
        raise Conflict(_l("This request has already been answered."))
    if decision not in ("accepted", "declined"):
        raise ValidationFailed(_l("Unknown decision."))
    meeting.status = decision
    meeting.answer_reason = (reason or "").strip()[:2000]
    db.session.flush()
    return meeting


def get_meeting(user, event: Event, meeting_id) -> MeetingRequest:
    meeting = db.session.get(MeetingRequest, _int(meeting_id) or 0)
    if meeting is None or meeting.event_id != event.id or _uid(user) not in (
            meeting.requester_id, meeting.presenter_id) and not can_manage(user, event):
        raise NotFound(_l("This meeting request does not exist."))
    return meeting


def my_meetings(user, event: Event, *, scheduled_only: bool = False) -> list[MeetingRequest]:
    if _uid(user) is None:
        return []
    query = (select(MeetingRequest).where(MeetingRequest.event_id == event.id,
                                          or_(MeetingRequest.requester_id == user.id,
                                              MeetingRequest.presenter_id == user.id))
             .options(selectinload(MeetingRequest.item), selectinload(MeetingRequest.requester),
                      selectinload(MeetingRequest.presenter)))
    if scheduled_only:
        query = query.where(MeetingRequest.slot.isnot(None))
    return list(db.session.scalars(query.order_by(MeetingRequest.slot.nulls_last(), MeetingRequest.id)))


def all_meetings(user, event: Event) -> list[MeetingRequest]:
    require_manage(user, event)
    return list(db.session.scalars(select(MeetingRequest).where(MeetingRequest.event_id == event.id)
                                   .options(selectinload(MeetingRequest.item))
                                   .order_by(MeetingRequest.slot.nulls_last(), MeetingRequest.table_number,
                                             MeetingRequest.id)))


def run_scheduler(user, event: Event) -> scheduling.Schedule:
    """Place every accepted request (see ``event_scheduling``) and store slot and table on each."""
    require_manage(user, event)
    if event.meeting_slots <= 0:
        raise Conflict(_l("Set the number of 1:1 meeting slots first."))
    accepted = list(db.session.scalars(select(MeetingRequest).where(MeetingRequest.event_id == event.id,
                                                                    MeetingRequest.status == "accepted")))
    capacity: dict[int, int] = {}
    for item in event.items:
        if item.presenter_id is not None:
            capacity[item.presenter_id] = max(capacity.get(item.presenter_id, 0), item.meeting_capacity)
    requests = [scheduling.MeetingRequest(id=m.id, requester=m.requester_id, presenter=m.presenter_id,
                                          weight=m.priority) for m in accepted if m.presenter_id is not None]
    schedule = scheduling.schedule_meetings(requests, event.meeting_slots, event.meeting_tables, capacity,
                                            default_capacity=0)
    placed = schedule.by_request()
    for m in accepted:
        p = placed.get(m.id)
        m.slot, m.table_number = (p.slot, p.table) if p else (None, None)
    event.scheduled_at = _now()
    event.ics_sequence = (event.ics_sequence or 0) + 1
    db.session.flush()
    people = {m.requester_id for m in accepted} | {m.presenter_id for m in accepted}
    _tell(people, "event_schedule", event, f"/events/{event.id}/meetings")
    return schedule


# --- interests and follow-ups -------------------------------------------------------------------------

def mark_interest(user, event: Event, item: AgendaItem, kind: str, note: str = "") -> EventInterest:
    """An attendee (or presenter's counterpart) wants to license, invest or trial; it becomes a follow-up."""
    _require_login(user)
    require_view(user, event)
    if item.event_id != event.id:
        raise NotFound(_l("This agenda item does not exist."))
    if event.status not in ("published", "finished"):
        raise Conflict(_l("Interests can be recorded only for published or finished events."))
    if not (is_attendee(user, event) or can_manage(user, event)):
        raise PermissionDenied(_l("Register for the event first."))
    if kind not in INTEREST_KINDS:
        raise ValidationFailed(_l("Unknown kind of interest."))
    existing = db.session.scalar(select(EventInterest).where(EventInterest.agenda_item_id == item.id,
                                                             EventInterest.user_id == user.id,
                                                             EventInterest.kind == kind))
    if existing is not None:
        raise Conflict(_l("You have already marked this interest."))
    interest = EventInterest(event_id=event.id, agenda_item_id=item.id, user_id=user.id, kind=kind,
                             organization_id=min(user.org_ids) if user.org_ids else None,
                             note=(note or "").strip()[:2000], owner_id=item.presenter_id, status="open")
    db.session.add(interest)
    db.session.flush()
    return interest


def can_handle_follow_up(user, interest: EventInterest) -> bool:
    if _uid(user) is None:
        return False
    return (interest.owner_id == user.id or access.is_broker(user) or can_manage(user, interest.event)
            or (interest.item.organization_id is not None and access.is_member_of(user, interest.item.organization_id)))


def get_interest(user, interest_id) -> EventInterest:
    interest = db.session.get(EventInterest, _int(interest_id) or 0)
    if interest is None or not (can_handle_follow_up(user, interest) or interest.user_id == _uid(user)):
        raise NotFound(_l("This follow-up does not exist."))
    return interest


def follow_ups(user, event: Event) -> list[EventInterest]:
    """The event's follow-ups this user handles (all of them for organisers, operators and brokers)."""
    _require_login(user)
    query = (select(EventInterest).where(EventInterest.event_id == event.id)
             .options(selectinload(EventInterest.item), selectinload(EventInterest.user),
                      selectinload(EventInterest.owner), selectinload(EventInterest.introduction))
             .order_by(EventInterest.id))
    rows = list(db.session.scalars(query))
    return [i for i in rows if can_handle_follow_up(user, i) or i.user_id == user.id]


def claim(user, interest: EventInterest) -> EventInterest:
    """A technology manager takes a follow-up over."""
    if not access.is_broker(user):
        raise PermissionDenied(_l("Only technology managers take follow-ups over."))
    interest.owner_id = user.id
    db.session.flush()
    return interest


def close_follow_up(user, interest: EventInterest, reason: str) -> EventInterest:
    if not can_handle_follow_up(user, interest):
        raise PermissionDenied(_l("You do not handle this follow-up."))
    if interest.status != "open":
        raise Conflict(_l("This follow-up is no longer open."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("Say why the follow-up is closed."),
                               field_errors={"reason": _l("This field is required.")})
    interest.status, interest.closed_reason = "closed", reason[:2000]
    db.session.flush()
    return interest


def interest_needs(interest: EventInterest) -> list[Need]:
    """Open needs of the interested organisation (an introduction pairs one of them with the item's offer)."""
    if interest.organization_id is None:
        return []
    return list(db.session.scalars(select(Need).where(Need.organization_id == interest.organization_id,
                                                      Need.status.in_(("open", "matched")))
                                   .order_by(Need.updated_at.desc(), Need.id.desc())))


def to_introduction(user, interest: EventInterest, need_id=None, message: str = "") -> Introduction:
    """One action: propose a brokering introduction between the interested organisation and the item's offer."""
    if not can_handle_follow_up(user, interest):
        raise PermissionDenied(_l("You do not handle this follow-up."))
    if interest.status != "open":
        raise Conflict(_l("This follow-up is no longer open."))
    if interest.item.offer_id is None:
        raise Conflict(_l("Only items from the catalogue can become introductions."))
    needs = interest_needs(interest)
    if need_id:
        need = next((n for n in needs if n.id == _int(need_id)), None)
        if need is None:
            raise ValidationFailed(_l("Pick one of the interested organisation's open needs."))
    elif needs:
        need = needs[0]
    else:
        raise Conflict(_l("The interested organisation has no open need to pair with; ask them to post one."))
    event = interest.event
    message = (message or "").strip() or str(_l(
        "Follow-up from %(event)s: %(who)s marked \"%(kind)s\" for %(item)s.", event=event.title("en"),
        who=interest.user.display_name if interest.user else "—", kind=INTEREST_LABELS[interest.kind],
        item=interest.item.title("en")))
    intro = brokering.propose(user, need.id, interest.item.offer_id, message)
    interest.introduction_id = intro.id
    interest.status = "introduced"
    if interest.owner_id is None:
        interest.owner_id = user.id
    db.session.flush()
    return intro


# --- report and series --------------------------------------------------------------------------------

def report(user, event: Event) -> dict:
    """Items presented, interests by kind, meetings held, follow-ups by status, introductions, signed deals."""
    require_manage(user, event)
    interests = list(db.session.scalars(select(EventInterest).where(EventInterest.event_id == event.id)
                                        .options(selectinload(EventInterest.introduction))))
    meetings = list(db.session.scalars(select(MeetingRequest).where(MeetingRequest.event_id == event.id)))
    intros = [i.introduction for i in interests if i.introduction is not None]
    since = aware(event.starts_at)
    return {
        "items": len(event.items),
        "registered": confirmed_count(event),
        "interests": Counter(i.kind for i in interests),
        "meetings_requested": len(meetings),
        "meetings_scheduled": sum(1 for m in meetings if m.slot is not None),
        "meetings_held": sum(1 for m in meetings if m.slot is not None) if event.status == "finished" else 0,
        "follow_ups": Counter(i.status for i in interests),
        "introductions": len(intros),
        "intro_stages": Counter(i.stage for i in intros),
        "in_negotiation": sum(1 for i in intros if i.stage in OPEN_PIPELINE_STAGES),
        "signed": sum(1 for i in intros if i.stage == "signed"),
        "timeline": sorted(((max(0, (aware(i.stage_changed_at) - since).days), i) for i in intros),
                           key=lambda row: row[0]),
    }


def series_summary(series: EventSeries) -> dict:
    """Counts over a series' non-draft events, from the records."""
    event_ids = list(db.session.scalars(select(Event.id).where(Event.series_id == series.id,
                                                               Event.status != "draft")))
    if not event_ids:
        return {"events": 0, "projects": 0, "patents": 0, "interests": 0, "introductions": 0,
                "in_negotiation": 0, "signed": 0}
    items = list(db.session.scalars(select(AgendaItem).where(AgendaItem.event_id.in_(event_ids))
                                    .options(selectinload(AgendaItem.offer))))
    intro_rows = db.session.execute(select(Introduction.id, Introduction.stage).join(
        EventInterest, EventInterest.introduction_id == Introduction.id)
        .where(EventInterest.event_id.in_(event_ids))).all()
    intro_stage = dict(intro_rows)
    return {
        "events": len(event_ids),
        "projects": len({("o", i.offer_id) if i.offer_id else ("p", i.id) for i in items}),
        "patents": len({i.offer_id for i in items if i.offer is not None and i.offer.kind == "patent"}),
        "interests": db.session.scalar(select(func.count(EventInterest.id)).where(
            EventInterest.event_id.in_(event_ids))) or 0,
        "introductions": len(intro_stage),
        "in_negotiation": sum(1 for s in intro_stage.values() if s in OPEN_PIPELINE_STAGES),
        "signed": sum(1 for s in intro_stage.values() if s == "signed"),
    }


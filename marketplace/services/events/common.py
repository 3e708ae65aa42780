"""Shared parts of the event services: labels, time zones, who may see and manage an event, telling people."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.models import (
    AgendaItem,
    Event,
)
from marketplace.services import access, brokering
from marketplace.services.cleaning import Cleaner, date_in_range
from marketplace.services.errors import NotFound, PermissionDenied
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
MEETING_LABELS = {"pending": _l("Waiting for an answer"), "accepted": _l("Accepted"),
                  "declined": _l("Declined"), "withdrawn": _l("Withdrawn"),
                  "cancelled": lazy_pgettext("meeting", "Cancelled"), "expired": _l("Lapsed unanswered")}
PRIORITY_LABELS = {1: _l("Nice to have"), 2: _l("Important"), 3: _l("Essential")}
INTEREST_LABELS = {"license": _l("Want to license"), "invest": _l("Want to invest"), "trial": _l("Want a trial")}
# "Open" alone is a need that is open for offers; a follow-up item that is open waits for someone to act.
FOLLOW_UP_LABELS = {"open": lazy_pgettext("follow-up", "Open"), "introduced": _l("Introduction proposed"),
                    "closed": lazy_pgettext("follow-up", "Closed")}


def bump_sequence(event: Event) -> None:
    """Tell calendars the event changed: ``ics_sequence + 1`` in SQL, so changes made at the same instant
    each count (a read-modify-write in Python would let one overwrite the other)."""
    db.session.execute(update(Event).where(Event.id == event.id)
                       .values(ics_sequence=func.coalesce(Event.ics_sequence, 0) + 1)
                       .execution_options(synchronize_session=False))
    db.session.expire(event, ["ics_sequence"])


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


aware = brokering.aware


def user_id_of(user) -> int | None:
    return getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None


def require_login(user) -> None:
    if user_id_of(user) is None:
        raise PermissionDenied(_l("Please log in first."))


def to_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- telling people -----------------------------------------------------------------------------------

def tell(user_ids, key: str, event: Event, link: str = "") -> bool:
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
    return user_id_of(user) is not None and user.has_role("organiser", "operator")


def can_manage(user, event: Event) -> bool:
    """The event's organiser, and operators / admins."""
    return user_id_of(user) is not None and (access.is_staff(user) or (is_organiser(user)
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
    return require_view(user, db.session.get(Event, to_int(event_id) or 0))


def get_item(user, event: Event, item_id) -> AgendaItem:
    item = db.session.get(AgendaItem, to_int(item_id) or 0)
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


def parse_local(c: Cleaner, key: str, tz: ZoneInfo, *, required: bool) -> datetime | None:
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
        parsed = None
    if parsed is None or not date_in_range(parsed):
        c.error(key, _l("Enter a date and time as YYYY-MM-DD HH:MM."))
        return None
    return parsed.replace(tzinfo=tz).astimezone(timezone.utc)

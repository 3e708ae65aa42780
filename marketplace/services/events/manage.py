"""Event series and events: create, edit, publish, cancel, finish."""
from __future__ import annotations

from zoneinfo import ZoneInfo, available_timezones

from flask_babel import lazy_gettext as _l
from marketplace.services.events.common import (
    DEFAULT_TZ,
    aware,
    bump_sequence,
    is_organiser,
    local,
    parse_local,
    require_manage,
    tell,
    utc_now,
)
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import (
    Event,
    EventSeries,
    MeetingRequest,
    Registration,
)
from marketplace.models.events import AUDIENCES, EVENT_KINDS
from marketplace.services import notifications, versions
from marketplace.services.cleaning import Cleaner
from marketplace.services.errors import Conflict, PermissionDenied, ValidationFailed
from marketplace.services.locks import lock_instance

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
    starts = parse_local(c, "starts_at", tz, required=True)
    ends = parse_local(c, "ends_at", tz, required=True)
    deadline = parse_local(c, "registration_deadline", tz, required=False)
    meetings_start = parse_local(c, "meetings_start_at", tz, required=False)
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
    c.integer("max_meetings_per_person", min_value=1, max_value=200)
    c.integer("meeting_request_days", min_value=1, max_value=60)
    series_id = c.integer("series_id", min_value=1)
    if series_id and db.session.get(EventSeries, series_id) is None:
        c.error("series_id", _l("Unknown series."))
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=c.errors)
    values = dict(c.values)
    values["title_zh"] = values["title_zh"] or values["title_en"]
    for key, default in (("meeting_minutes", 15), ("meeting_slots", 0), ("meeting_tables", 4),
                         ("meeting_request_days", 3)):
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


def update_event(user, event: Event, data: dict, *, expected_version=None, keep_unsent: bool = False) -> Event:
    """Change an event (see ``offers.update_offer`` for the version and ``keep_unsent``); places added by a higher
    capacity go to the waiting list, first come first served."""
    require_manage(user, event)
    event = versions.claim(event, expected_version)  # locks: capacity and status change one change at a time
    if keep_unsent:
        data = {**event_form_data(event), **data}
    if event.status in ("cancelled", "finished"):
        raise Conflict(_l("A cancelled or finished event can no longer be changed."))
    values = _clean_event(data)
    _keep_booked_slots(event, values["meeting_slots"])
    for key, value in values.items():
        setattr(event, key, value)
    db.session.flush()
    bump_sequence(event)
    if event.status == "published":
        from marketplace.services.events.registration import promote_waiting
        promote_waiting(event)
    return event


def _keep_booked_slots(event: Event, new_count: int) -> None:
    """Slot numbers run on into the added windows, so the first window's size changes only while no meeting
    is booked or proposed at or after the slots that would move."""
    old_count = event.meeting_slots or 0
    if new_count == old_count:
        return
    low = min(old_count, new_count)
    moved = db.session.scalar(select(MeetingRequest.id).where(
        MeetingRequest.event_id == event.id, MeetingRequest.status.in_(("pending", "accepted")),
        (MeetingRequest.slot >= low) | (MeetingRequest.proposed_slot >= low)).limit(1))
    if moved is not None:
        message = _l("Meetings are booked in slots this change would move: move or cancel them first.")
        raise ValidationFailed(message, field_errors={"meeting_slots": message})


def event_form_data(event: Event) -> dict:
    """An event as the form's plain data (times in its own zone)."""
    def fmt(value):
        return local(value, event.timezone).strftime("%Y-%m-%dT%H:%M") if value else ""
    data = {k: getattr(event, k) for k in ("kind", "title_zh", "title_en", "description_zh", "description_en",
                                           "timezone", "meeting_url", "capacity", "meeting_minutes",
                                           "meeting_slots", "meeting_tables", "max_meetings_per_person",
                                           "meeting_request_days", "series_id")}
    data.update(starts_at=fmt(event.starts_at), ends_at=fmt(event.ends_at),
                registration_deadline=fmt(event.registration_deadline),
                meetings_start_at=fmt(event.meetings_start_at), audience=list(event.audience or []))
    return {k: ("" if v is None else v) for k, v in data.items()}


def publish(user, event: Event) -> Event:
    require_manage(user, event)
    event = lock_instance(event)
    if event.status != "draft":
        raise Conflict(_l("Only a draft can be published."))
    if aware(event.ends_at) <= utc_now():
        raise Conflict(_l("This event is already over."))
    event.status = "published"
    event.published_at = utc_now()
    db.session.flush()
    notifications.presenters_on_published(event, user)
    return event


def cancel(user, event: Event, reason: str) -> Event:
    """Call the event off; every registrant and waiting-list entry is told (on their events page)."""
    require_manage(user, event)
    event = lock_instance(event)  # cancelled once, and registrations read after any registration committed
    if event.status not in ("draft", "published"):
        raise Conflict(_l("Only a draft or published event can be cancelled."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("Tell the registrants why the event is cancelled."),
                               field_errors={"reason": _l("This field is required.")})
    event.status = "cancelled"
    event.cancel_reason = reason[:2000]
    bump_sequence(event)
    told = []
    for reg in db.session.scalars(select(Registration).where(Registration.event_id == event.id,
                                                             Registration.status != "cancelled")):
        reg.event_cancelled = True
        told.append(reg.user_id)
    db.session.flush()
    tell(told, "event_cancelled", event, "/events/mine")
    return event


def finish(user, event: Event) -> Event:
    require_manage(user, event)
    event = lock_instance(event)
    if event.status != "published":
        raise Conflict(_l("Only a published event can be marked finished."))
    if aware(event.ends_at) > utc_now():
        raise Conflict(_l("An event can be marked finished only once it has ended."))
    event.status = "finished"
    db.session.flush()
    return event

"""Meeting windows: when an event's 1:1 meeting slots are, and the organiser's meeting settings."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models.events import Event, MeetingRequest, MeetingWindow
from marketplace.services.cleaning import Cleaner
from marketplace.services.errors import Conflict, NotFound, ValidationFailed
from marketplace.services.events.common import aware, bump_sequence, parse_local, require_manage, to_int, zone
from marketplace.services.locks import lock_instance

MAX_WINDOW_SLOTS = 48


def windows(event: Event) -> list[MeetingWindow]:
    """The windows added to the event, in the order they were added (their slots follow the event's own)."""
    if event.id is None:
        return []
    return list(db.session.scalars(select(MeetingWindow).where(MeetingWindow.event_id == event.id)
                                   .order_by(MeetingWindow.id)))


def slot_times(event: Event) -> list[tuple[datetime, datetime]]:
    """(start, end) in UTC of every meeting slot, indexed by slot number.

    The event's own window (``meetings_start_at``, or the event's end when unset, ``meeting_slots`` of
    ``meeting_minutes``) comes first, then each added window in the order it was added.
    """
    times = []
    base = aware(event.meetings_start_at or event.ends_at)
    step = timedelta(minutes=event.meeting_minutes or 15)
    for n in range(event.meeting_slots or 0):
        times.append((base + step * n, base + step * (n + 1)))
    for window in windows(event):
        start, step = aware(window.starts_at), timedelta(minutes=window.minutes)
        for n in range(window.slots):
            times.append((start + step * n, start + step * (n + 1)))
    return times


def slot_count(event: Event) -> int:
    """How many meeting slots the event has in all its windows."""
    return len(slot_times(event))


def meeting_time(event: Event, slot: int | None) -> datetime | None:
    """When slot number ``slot`` starts (None for no slot or a slot that no longer exists)."""
    if slot is None:
        return None
    times = slot_times(event)
    return times[slot][0] if 0 <= slot < len(times) else None


def meeting_end(event: Event, slot: int | None) -> datetime | None:
    """When slot number ``slot`` ends."""
    if slot is None:
        return None
    times = slot_times(event)
    return times[slot][1] if 0 <= slot < len(times) else None


def first_slot_start(event: Event) -> datetime | None:
    """The earliest start of any meeting slot (requests lapse then at the latest)."""
    times = slot_times(event)
    return min(start for start, _ in times) if times else None


def overlapping_slots(times: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> set[int]:
    """Slot numbers whose time overlaps [start, end)."""
    start, end = aware(start), aware(end)
    return {n for n, (s, e) in enumerate(times) if s < end and start < e}


def add_window(user, event: Event, data: dict) -> MeetingWindow:
    """The organiser adds a block of meeting slots (start in the event's zone, number of slots, slot length)."""
    require_manage(user, event)
    event = lock_instance(event)
    if event.status in ("cancelled", "finished"):
        raise Conflict(_l("A cancelled or finished event can no longer be changed."))
    c = Cleaner(data)
    starts = parse_local(c, "window_starts_at", zone(event.timezone), required=True)
    slots = c.integer("window_slots", min_value=1, max_value=MAX_WINDOW_SLOTS, required=True)
    minutes = c.integer("window_minutes", min_value=5, max_value=120, required=True)
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=c.errors)
    window = MeetingWindow(event_id=event.id, starts_at=starts, slots=slots, minutes=minutes)
    db.session.add(window)
    db.session.flush()
    bump_sequence(event)
    return window


def remove_window(user, event: Event, window_id) -> None:
    """Remove the last added window, only while no meeting is placed or proposed in it (slot numbers of
    earlier windows stay as they are)."""
    require_manage(user, event)
    event = lock_instance(event)
    window = db.session.get(MeetingWindow, to_int(window_id) or 0)
    if window is None or window.event_id != event.id:
        raise NotFound(_l("This meeting window does not exist."))
    added = windows(event)
    if added[-1].id != window.id:
        raise Conflict(_l("Remove the windows added later first."))
    first = slot_count(event) - window.slots
    used = db.session.scalar(select(MeetingRequest.id).where(
        MeetingRequest.event_id == event.id, MeetingRequest.status.in_(("pending", "accepted")),
        (MeetingRequest.slot >= first) | (MeetingRequest.proposed_slot >= first)).limit(1))
    if used is not None:
        raise Conflict(_l("Meetings are booked in this window: move or cancel them first."))
    db.session.delete(window)
    db.session.flush()
    bump_sequence(event)

"""Where a 1:1 meeting may go: each person's free and busy slots, tables per slot, the per-person maximum.

A person is busy in a slot when they already meet someone then (at this event), give a talk that overlaps
it (at any event), or meet someone at another event at an overlapping time. Placing a meeting locks the
event, then both people (in id order), so two answers racing for the same slot or person are serialised and
the second sees the first's placement.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from marketplace.extensions import db
from marketplace.models import User
from marketplace.models.events import AgendaItem, Event, MeetingRequest
from marketplace.services.errors import Conflict, ValidationFailed
from marketplace.services.events.participants import free_slots
from marketplace.services.events.windows import overlapping_slots, slot_times
from marketplace.services.locks import lock, lock_instance

LIVE_EVENT_STATUSES = ("draft", "published", "finished")


def _involving(person_id: int):
    return or_(MeetingRequest.requester_id == person_id, MeetingRequest.presenter_id == person_id)


def busy_slots(event: Event, person_id: int, *, exclude_meeting_id: int | None = None) -> set[int]:
    """Slots of ``event`` in which ``person_id`` is already taken (meetings here, talks and meetings
    elsewhere at an overlapping time)."""
    times = slot_times(event)
    busy: set[int] = set()
    placed = db.session.scalars(select(MeetingRequest).join(Event, Event.id == MeetingRequest.event_id).where(
        _involving(person_id), MeetingRequest.status == "accepted", MeetingRequest.slot.isnot(None),
        Event.status.in_(LIVE_EVENT_STATUSES)))
    other_times: dict[int, list] = {}
    for meeting in placed:
        if meeting.id == exclude_meeting_id:
            continue
        if meeting.event_id == event.id:
            busy.add(meeting.slot)
            continue
        theirs = other_times.setdefault(meeting.event_id, slot_times(meeting.event))
        if 0 <= meeting.slot < len(theirs):
            busy |= overlapping_slots(times, *theirs[meeting.slot])
    talks = db.session.scalars(select(AgendaItem).join(Event, Event.id == AgendaItem.event_id).where(
        AgendaItem.presenter_id == person_id, Event.status.in_(LIVE_EVENT_STATUSES)))
    for talk in talks:
        busy |= overlapping_slots(times, talk.starts_at, talk.ends_at)
    return busy


def open_slots(event: Event, person_id: int, *, exclude_meeting_id: int | None = None) -> set[int]:
    """Slots the person marked free and is not busy in."""
    return free_slots(event, person_id) - busy_slots(event, person_id, exclude_meeting_id=exclude_meeting_id)


def tables_used(event: Event, slot: int, *, exclude_meeting_id: int | None = None) -> set[int]:
    """Table numbers taken in ``slot`` at the event."""
    rows = db.session.scalars(select(MeetingRequest.table_number).where(
        MeetingRequest.event_id == event.id, MeetingRequest.status == "accepted", MeetingRequest.slot == slot,
        MeetingRequest.id != (exclude_meeting_id or 0)))
    return {n for n in rows if n is not None}


def full_slots(event: Event, *, exclude_meeting_id: int | None = None) -> set[int]:
    """Slots whose every table (or video room) is taken."""
    counts: dict[int, int] = {}
    for slot in db.session.scalars(select(MeetingRequest.slot).where(
            MeetingRequest.event_id == event.id, MeetingRequest.status == "accepted",
            MeetingRequest.slot.isnot(None), MeetingRequest.id != (exclude_meeting_id or 0))):
        counts[slot] = counts.get(slot, 0) + 1
    return {slot for slot, n in counts.items() if n >= event.meeting_tables}


def common_slots(event: Event, a: int, b: int, *, exclude_meeting_id: int | None = None) -> list[int]:
    """Slots both people are free in, with a table left, in order."""
    shared = (open_slots(event, a, exclude_meeting_id=exclude_meeting_id)
              & open_slots(event, b, exclude_meeting_id=exclude_meeting_id))
    return sorted(shared - full_slots(event, exclude_meeting_id=exclude_meeting_id))


def meeting_count(event: Event, person_id: int, *, exclude_meeting_id: int | None = None) -> int:
    """Accepted meetings of the person at the event (placed or waiting for the scheduler)."""
    ids = db.session.scalars(select(MeetingRequest.id).where(
        MeetingRequest.event_id == event.id, MeetingRequest.status == "accepted", _involving(person_id)))
    return sum(1 for meeting_id in ids if meeting_id != exclude_meeting_id)


def lock_people(event: Event, *people: int) -> Event:
    """Lock the event, then the people in id order (the same order everywhere, so no deadlock)."""
    event = lock_instance(event)
    for person_id in sorted({p for p in people if p}):
        lock(User, person_id)
    return event


def check_limit(event: Event, people, *, exclude_meeting_id: int | None = None) -> None:
    """Refuse when someone already has the organiser's maximum number of meetings."""
    limit = event.max_meetings_per_person
    if not limit:
        return
    for person_id in people:
        if meeting_count(event, person_id, exclude_meeting_id=exclude_meeting_id) >= limit:
            raise Conflict(_l("One of you already has the maximum of %(n)d meetings at this event.", n=limit))


def check_slot(event: Event, slot: int, requester_id: int, other_id: int, *,
               exclude_meeting_id: int | None = None) -> None:
    """Refuse a slot that does not exist, is not free for both people, or has no table left (call after
    :func:`lock_people`)."""
    if not 0 <= slot < len(slot_times(event)):
        raise ValidationFailed(_l("Unknown meeting slot."), field_errors={"slot": _l("Unknown meeting slot.")})
    for person_id in (requester_id, other_id):
        if slot not in free_slots(event, person_id):
            raise Conflict(_l("That time is not among the times both of you are free. Choose another one."))
        if slot in busy_slots(event, person_id, exclude_meeting_id=exclude_meeting_id):
            raise Conflict(_l("That time is already taken by another meeting or a talk. Choose another one."))
    if slot in full_slots(event, exclude_meeting_id=exclude_meeting_id):
        raise Conflict(_l("Every table is taken at that time. Choose another one."))


def free_table(event: Event, slot: int, *, exclude_meeting_id: int | None = None) -> int:
    """The lowest table (or video room) number free in ``slot``."""
    used = tables_used(event, slot, exclude_meeting_id=exclude_meeting_id)
    return next(n for n in range(1, event.meeting_tables + len(used) + 2) if n not in used)

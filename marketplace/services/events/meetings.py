"""1:1 meetings between attendees and presenters, and the scheduler that places them."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from marketplace.services.events.common import (
    PRIORITY_LABELS,
    aware,
    bump_sequence,
    can_manage,
    require_login,
    require_manage,
    require_view,
    tell,
    to_int,
    user_id_of,
    utc_now,
)
from marketplace.services.events.registration import is_attendee
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.models import (
    AgendaItem,
    Event,
    MeetingRequest,
)
from marketplace.services import event_scheduling as scheduling
from marketplace.services import notifications
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.services.locks import lock_instance

# --- 1:1 meetings -------------------------------------------------------------------------------------

def meeting_time(event: Event, slot: int | None) -> datetime | None:
    if slot is None:
        return None
    base = aware(event.meetings_start_at or event.ends_at)
    return base + timedelta(minutes=event.meeting_minutes * slot)


def request_meeting(user, event: Event, item: AgendaItem, reason: str, priority=2) -> MeetingRequest:
    require_login(user)
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
    priority = to_int(priority)
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
    notifications.meeting_requested(existing)
    return existing


def answer_meeting(user, meeting: MeetingRequest, decision: str, reason: str = "") -> MeetingRequest:
    """The presenter accepts or declines (a decline may give a reason)."""
    require_login(user)
    if meeting.presenter_id != user.id and not can_manage(user, meeting.event):
        raise NotFound(_l("This meeting request does not exist."))
    meeting = lock_instance(meeting)  # accept and decline at once: the second sees the first's answer
    if meeting.status != "pending":
        raise Conflict(_l("This request has already been answered."))
    if decision not in ("accepted", "declined"):
        raise ValidationFailed(_l("Unknown decision."))
    meeting.status = decision
    meeting.answer_reason = (reason or "").strip()[:2000]
    db.session.flush()
    notifications.meeting_answered(meeting)
    return meeting


def get_meeting(user, event: Event, meeting_id) -> MeetingRequest:
    meeting = db.session.get(MeetingRequest, to_int(meeting_id) or 0)
    if meeting is None or meeting.event_id != event.id or user_id_of(user) not in (
            meeting.requester_id, meeting.presenter_id) and not can_manage(user, event):
        raise NotFound(_l("This meeting request does not exist."))
    return meeting


def my_meetings(user, event: Event, *, scheduled_only: bool = False) -> list[MeetingRequest]:
    if user_id_of(user) is None:
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
    event = lock_instance(event)  # one scheduler run at a time places every request once
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
    event.scheduled_at = utc_now()
    db.session.flush()
    bump_sequence(event)
    people = {m.requester_id for m in accepted} | {m.presenter_id for m in accepted}
    tell(people, "event_schedule", event, f"/events/{event.id}/meetings")
    return schedule

"""1:1 meetings: requests between any two participants (or about an agenda item), answers with a time,
moving, cancelling, lapsing, and the scheduler that places accepted requests left without a time."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.models import User
from marketplace.models.events import AgendaItem, Event, MeetingRequest
from marketplace.services import event_scheduling as scheduling
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.services.events import booking, meeting_news
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
from marketplace.services.events.participants import free_slots, is_participant, meets, participant_ids
from marketplace.services.events.registration import is_attendee
from marketplace.services.events.windows import first_slot_start, meeting_time, slot_count  # noqa: F401
from marketplace.services.locks import lock_instance

OPEN_STATUSES = ("pending", "accepted")
EXPIRY_JOB = "events.expire_meeting_requests"


def _expiry(event: Event, now: datetime) -> datetime:
    """A request waits ``meeting_request_days`` at most, and never past the first meeting slot."""
    end = now + timedelta(days=event.meeting_request_days or 3)
    first = first_slot_start(event)
    return min(end, first) if first is not None and first > now else end


def _open_for_requests(user, event: Event) -> None:
    require_login(user)
    require_view(user, event)
    if event.status != "published":
        raise Conflict(_l("Meetings can be requested only for published events."))
    if slot_count(event) <= 0:
        raise Conflict(_l("This event has no 1:1 meeting slots."))


def _clean_reason(reason: str, message) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(message, field_errors={"reason": _l("This field is required.")})
    return reason[:2000]


def _clean_priority(priority) -> int:
    priority = to_int(priority)
    if priority not in PRIORITY_LABELS:
        raise ValidationFailed(_l("Unknown priority."), field_errors={"priority": _l("Unknown priority.")})
    return priority


def _proposed(event: Event, requester_id: int, other_id: int, slot) -> int | None:
    """A proposed time must be free for both now (a request for an occupied slot is refused)."""
    if slot in (None, ""):
        return None
    number = to_int(slot)
    if number is None:
        raise ValidationFailed(_l("Unknown meeting slot."), field_errors={"slot": _l("Unknown meeting slot.")})
    booking.check_slot(event, number, requester_id, other_id)
    return number


def request_meeting(user, event: Event, item: AgendaItem, reason: str, priority=2, slot=None) -> MeetingRequest:
    """A registrant asks an agenda item's presenter for a meeting about the item."""
    _open_for_requests(user, event)
    if item.event_id != event.id:
        raise NotFound(_l("This agenda item does not exist."))
    if not is_attendee(user, event):
        raise PermissionDenied(_l("Register for the event first."))
    if item.presenter_id is None:
        raise Conflict(_l("This item has no presenter yet."))
    if item.presenter_id == user.id:
        raise ValidationFailed(_l("You present this item yourself."))
    reason = _clean_reason(reason, _l("Tell the presenter why you want to meet."))
    priority = _clean_priority(priority)
    event = booking.lock_people(event, user.id, item.presenter_id)
    existing = db.session.scalar(select(MeetingRequest).where(MeetingRequest.agenda_item_id == item.id,
                                                              MeetingRequest.requester_id == user.id))
    if existing is not None and existing.status in OPEN_STATUSES:
        raise Conflict(_l("You have already asked for a meeting about this item."))
    proposed = _proposed(event, user.id, item.presenter_id, slot)
    if existing is None:
        existing = MeetingRequest(event_id=event.id, agenda_item_id=item.id, requester_id=user.id)
        db.session.add(existing)
    _reset(existing, event, item.presenter_id, reason, priority, proposed)
    db.session.flush()
    meeting_news.requested(existing)
    return existing


def request_person(user, event: Event, other_id, reason: str, slot=None, priority=2) -> MeetingRequest:
    """A participant asks another participant for a meeting, with a reason and perhaps a proposed time."""
    _open_for_requests(user, event)
    if not is_participant(user, event):
        raise PermissionDenied(_l("Register for the event first."))
    other_id = to_int(other_id)
    if other_id is None or other_id not in participant_ids(event) or db.session.get(User, other_id) is None:
        raise NotFound(_l("This participant does not exist."))
    if other_id == user.id:
        raise ValidationFailed(_l("You cannot ask yourself for a meeting."))
    if not meets(event, other_id):
        raise Conflict(_l("This participant does not take meeting requests."))
    reason = _clean_reason(reason, _l("Say why you want to meet."))
    priority = _clean_priority(priority)
    event = booking.lock_people(event, user.id, other_id)
    open_between = db.session.scalar(select(MeetingRequest.id).where(
        MeetingRequest.event_id == event.id, MeetingRequest.agenda_item_id.is_(None),
        MeetingRequest.status.in_(OPEN_STATUSES),
        or_((MeetingRequest.requester_id == user.id) & (MeetingRequest.presenter_id == other_id),
            (MeetingRequest.requester_id == other_id) & (MeetingRequest.presenter_id == user.id))).limit(1))
    if open_between is not None:
        raise Conflict(_l("There is already an open meeting request between you two."))
    proposed = _proposed(event, user.id, other_id, slot)
    meeting = MeetingRequest(event_id=event.id, agenda_item_id=None, requester_id=user.id)
    db.session.add(meeting)
    _reset(meeting, event, other_id, reason, priority, proposed)
    db.session.flush()
    meeting_news.requested(meeting)
    return meeting


def _reset(meeting: MeetingRequest, event: Event, other_id: int, reason: str, priority: int,
           proposed: int | None) -> None:
    meeting.presenter_id, meeting.reason, meeting.priority = other_id, reason, priority
    meeting.status, meeting.slot, meeting.table_number, meeting.answer_reason = "pending", None, None, ""
    meeting.proposed_slot, meeting.expires_at = proposed, _expiry(event, utc_now())
    meeting.requester_checked_in_at = meeting.presenter_checked_in_at = meeting.no_show_id = None


def _place(event: Event, meeting: MeetingRequest, slot: int) -> None:
    booking.check_slot(event, slot, meeting.requester_id, meeting.presenter_id, exclude_meeting_id=meeting.id)
    meeting.slot, meeting.table_number = slot, booking.free_table(event, slot, exclude_meeting_id=meeting.id)


def answer_meeting(user, meeting: MeetingRequest, decision: str, reason: str = "", slot=None) -> MeetingRequest:
    """The person asked accepts (at one of the common free times, or leaving the time to the scheduler) or
    declines (perhaps with a reason)."""
    require_login(user)
    if meeting.presenter_id != user.id and not can_manage(user, meeting.event):
        raise NotFound(_l("This meeting request does not exist."))
    if decision not in ("accepted", "declined"):
        raise ValidationFailed(_l("Unknown decision."))
    # Lock the event and both people first: two answers for the same slot or person at once are serialised.
    booking.lock_people(meeting.event, meeting.requester_id, meeting.presenter_id)
    meeting = lock_instance(meeting)
    event = meeting.event
    if meeting.status != "pending":
        raise Conflict(_l("This request has already been answered."))
    if meeting.expires_at is not None and aware(meeting.expires_at) <= utc_now():
        raise Conflict(_l("This request has lapsed."))
    if decision == "accepted":
        booking.check_limit(event, (meeting.requester_id, meeting.presenter_id), exclude_meeting_id=meeting.id)
        number = to_int(slot) if slot not in (None, "") else None
        if slot not in (None, "") and number is None:
            raise ValidationFailed(_l("Unknown meeting slot."), field_errors={"slot": _l("Unknown meeting slot.")})
        if number is not None:
            _place(event, meeting, number)
    meeting.status = decision
    meeting.answer_reason = (reason or "").strip()[:2000]
    db.session.flush()
    if meeting.slot is not None:
        bump_sequence(event)
    meeting_news.answered(meeting)
    return meeting


def _require_side(user, meeting: MeetingRequest) -> int:
    require_login(user)
    if user.id not in (meeting.requester_id, meeting.presenter_id):
        raise NotFound(_l("This meeting request does not exist."))
    return user.id


def reschedule(user, meeting: MeetingRequest, slot) -> MeetingRequest:
    """Either side moves an accepted meeting to another time both are free; the other side is told."""
    actor = _require_side(user, meeting)
    number = to_int(slot)
    if number is None:
        raise ValidationFailed(_l("Choose a time."), field_errors={"slot": _l("This field is required.")})
    booking.lock_people(meeting.event, meeting.requester_id, meeting.presenter_id)
    meeting = lock_instance(meeting)
    if meeting.status != "accepted":
        raise Conflict(_l("Only an accepted meeting can be moved."))
    if meeting.slot == number:
        raise Conflict(_l("The meeting is already at that time."))
    _place(meeting.event, meeting, number)
    meeting.requester_checked_in_at = meeting.presenter_checked_in_at = None
    db.session.flush()
    bump_sequence(meeting.event)
    meeting_news.changed(meeting, actor, "meeting_moved")
    return meeting


def cancel_meeting(user, meeting: MeetingRequest, reason: str = "") -> MeetingRequest:
    """Either side calls off a pending or accepted meeting; the other side is told."""
    actor = _require_side(user, meeting)
    meeting = lock_instance(meeting)
    if meeting.status not in OPEN_STATUSES:
        raise Conflict(_l("This meeting is no longer open."))
    was_placed = meeting.slot is not None
    meeting.status = "withdrawn" if meeting.status == "pending" and actor == meeting.requester_id else "cancelled"
    meeting.answer_reason = (reason or "").strip()[:2000]
    meeting.slot = meeting.table_number = None
    db.session.flush()
    if was_placed:
        bump_sequence(meeting.event)
    meeting_news.changed(meeting, actor, "meeting_cancelled")
    return meeting


def expire_requests(now: datetime | None = None) -> dict:
    """Requests left unanswered past their time lapse (job); the person who asked is told."""
    now = now or utc_now()
    due = list(db.session.scalars(select(MeetingRequest.id).where(
        MeetingRequest.status == "pending", MeetingRequest.expires_at.isnot(None), MeetingRequest.expires_at <= now)))
    expired = 0
    for meeting_id in due:
        meeting = lock_instance(db.session.get(MeetingRequest, meeting_id))
        if meeting.status != "pending":  # answered meanwhile
            continue
        meeting.status = "expired"
        expired += 1
        db.session.flush()
        meeting_news.expired(meeting)
    return {"expired": expired}


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
        query = query.where(MeetingRequest.slot.isnot(None), MeetingRequest.status == "accepted")
    return list(db.session.scalars(query.order_by(MeetingRequest.slot.nulls_last(), MeetingRequest.id)))


def all_meetings(user, event: Event) -> list[MeetingRequest]:
    require_manage(user, event)
    return list(db.session.scalars(select(MeetingRequest).where(MeetingRequest.event_id == event.id)
                                   .options(selectinload(MeetingRequest.item))
                                   .order_by(MeetingRequest.slot.nulls_last(), MeetingRequest.table_number,
                                             MeetingRequest.id)))


def run_scheduler(user, event: Event) -> scheduling.Schedule:
    """Place every accepted request without a time (see ``event_scheduling``), keeping the meetings people
    booked themselves, then store slot and table on each; a placement that would break a rule is dropped."""
    require_manage(user, event)
    event = lock_instance(event)  # one scheduler run at a time places every request once
    slots = slot_count(event)
    if slots <= 0:
        raise Conflict(_l("Set the number of 1:1 meeting slots first."))
    accepted = list(db.session.scalars(select(MeetingRequest).where(MeetingRequest.event_id == event.id,
                                                                    MeetingRequest.status == "accepted")))
    accepted = [m for m in accepted if m.presenter_id is not None]
    fixed = [m for m in accepted if m.slot is not None]
    loose = [m for m in accepted if m.slot is None]
    capacity: dict[int, int] = {}
    for item in event.items:
        if item.presenter_id is not None:
            capacity[item.presenter_id] = max(capacity.get(item.presenter_id, 0), item.meeting_capacity)
    people = {m.requester_id for m in accepted} | {m.presenter_id for m in accepted}
    default_capacity = event.max_meetings_per_person or slots
    requests = [scheduling.MeetingRequest(id=m.id, requester=m.requester_id, presenter=m.presenter_id,
                                          weight=m.priority) for m in accepted]
    schedule = scheduling.schedule_meetings(
        requests, slots, event.meeting_tables, capacity, default_capacity=default_capacity,
        available={p: free_slots(event, p) for p in people},
        busy={p: _busy_elsewhere(event, p) for p in people},
        # a booked meeting keeps its slot; one without a table yet gets a free one from the scheduler
        fixed=[scheduling.Placement(m.id, m.slot, m.table_number) for m in fixed])
    placed = schedule.by_request()
    newly = []
    for m in sorted(loose, key=lambda m: (-m.priority, m.id)):
        p = placed.get(m.id)
        m.slot = m.table_number = None
        db.session.flush()
        if p is None:
            continue
        try:
            _place(event, m, p.slot)
        except (Conflict, ValidationFailed):
            continue
        db.session.flush()
        newly.append(m)
    event.scheduled_at = utc_now()
    db.session.flush()
    bump_sequence(event)
    for m in newly:
        meeting_news.placed(m)
    tell(people, "event_schedule", event, f"/events/{event.id}/meetings")
    schedule.unplaced = [m.id for m in loose if m.slot is None]
    return schedule


def _busy_elsewhere(event: Event, person_id: int) -> set[int]:
    """Slots blocked by the person's talks and their meetings at other events (not this event's meetings,
    which the scheduler sees as fixed placements)."""
    here = {m.slot for m in db.session.scalars(select(MeetingRequest).where(
        MeetingRequest.event_id == event.id, MeetingRequest.status == "accepted", MeetingRequest.slot.isnot(None),
        or_(MeetingRequest.requester_id == person_id, MeetingRequest.presenter_id == person_id)))}
    return booking.busy_slots(event, person_id) - here

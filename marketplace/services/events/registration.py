"""Registration with a waiting list, attendees, and the reminder before an event starts."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from marketplace.services.events.common import (
    REMINDER_HOURS,
    aware,
    can_manage,
    require_login,
    require_manage,
    require_view,
    tell,
    user_id_of,
    utc_now,
)
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.models import (
    Event,
    MeetingRequest,
    Registration,
)
from marketplace.services.errors import Conflict
from marketplace.services.events.meeting_news import changed as meeting_changed
from marketplace.services.locks import lock_instance

# --- registration -------------------------------------------------------------------------------------

def registration_of(user, event: Event) -> Registration | None:
    if user_id_of(user) is None:
        return None
    return db.session.scalar(select(Registration).where(Registration.event_id == event.id,
                                                        Registration.user_id == user.id))


def confirmed_count(event: Event) -> int:
    return db.session.scalar(select(func.count(Registration.id)).where(
        Registration.event_id == event.id, Registration.status == "confirmed")) or 0


def register(user, event: Event) -> Registration:
    """A place if one is free, else the waiting list (in order of registration)."""
    require_login(user)
    require_view(user, event)
    event = lock_instance(event)  # places are counted and taken one registration at a time
    if event.status != "published":
        raise Conflict(_l("Registration is open only for published events."))
    now = utc_now()
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
    require_login(user)
    event = lock_instance(event)
    reg = registration_of(user, event)
    if reg is None or reg.status == "cancelled":
        raise Conflict(_l("You are not registered for this event."))
    was_confirmed = reg.status == "confirmed"
    reg.status, reg.cancelled_at = "cancelled", utc_now()
    db.session.flush()
    _call_off_meetings(user, event)
    if was_confirmed:
        promote_waiting(event)
    return reg


def _call_off_meetings(user, event: Event) -> None:
    """Someone who leaves (and presents nothing) no longer holds meeting slots: their open requests and
    meetings at the event are cancelled and the other side is told."""
    if any(item.presenter_id == user.id for item in event.items):
        return
    rows = db.session.scalars(select(MeetingRequest).where(
        MeetingRequest.event_id == event.id, MeetingRequest.status.in_(("pending", "accepted")),
        or_(MeetingRequest.requester_id == user.id, MeetingRequest.presenter_id == user.id)))
    for meeting in rows:
        meeting.status = "withdrawn" if meeting.status == "pending" and meeting.requester_id == user.id \
            else "cancelled"
        meeting.slot = meeting.table_number = None
        meeting.answer_reason = str(_l("The participant cancelled their registration."))
        db.session.flush()
        meeting_changed(meeting, user.id, "meeting_cancelled")


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
        reg.status, reg.confirmed_at, reg.promoted_at = "confirmed", utc_now(), utc_now()
        promoted.append(reg)
        free = None if free is None else free - 1
    db.session.flush()
    if promoted:
        tell([r.user_id for r in promoted], "event_promoted", event)
    return promoted


def waiting_position(reg: Registration) -> int | None:
    if reg.status != "waitlisted":
        return None
    return db.session.scalar(select(func.count(Registration.id)).where(
        Registration.event_id == reg.event_id, Registration.status == "waitlisted",
        or_(Registration.registered_at < reg.registered_at,
            (Registration.registered_at == reg.registered_at) & (Registration.id <= reg.id))))


def my_registrations(user) -> list[Registration]:
    require_login(user)
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
    if user_id_of(user) is None:
        return False
    return (is_attendee(user, event) or can_manage(user, event)
            or any(item.presenter_id == user.id for item in event.items))


# --- reminders (job) ----------------------------------------------------------------------------------

def send_reminders(now: datetime | None = None, hours: int = REMINDER_HOURS) -> dict:
    """Mark a reminder for every confirmed registrant of a published event starting within ``hours``."""
    now = now or utc_now()
    due = list(db.session.scalars(select(Registration).join(Event).where(
        Event.status == "published", Event.starts_at > now, Event.starts_at <= now + timedelta(hours=hours),
        Registration.status == "confirmed", Registration.reminded_at.is_(None))))
    for reg in due:
        reg.reminded_at = now
    for event_id in {reg.event_id for reg in due}:
        tell([r.user_id for r in due if r.event_id == event_id], "event_reminder", db.session.get(Event, event_id))
    db.session.flush()
    return {"reminded": len(due)}

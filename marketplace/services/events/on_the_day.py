"""On the day: check-in for the event and for each meeting, no-shows, private meeting notes, video links,
and interests marked after a meeting (they become follow-ups like interests in agenda items)."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Membership, Offer
from marketplace.models.events import INTEREST_KINDS, Event, EventInterest, MeetingNote, MeetingRequest
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.services.events.common import aware, require_login, to_int, user_id_of, utc_now
from marketplace.services.events.follow_ups import mark_interest
from marketplace.services.events.registration import registration_of
from marketplace.services.events.windows import meeting_end, meeting_time
from marketplace.services.locks import lock_instance

CHECK_IN_EARLY = timedelta(minutes=30)   # people may check in this long before a meeting starts
EVENT_CHECK_IN_EARLY = timedelta(hours=12)
NO_SHOW_JOB = "events.record_no_shows"


def check_in(user, event: Event) -> None:
    """A confirmed registrant checks in for the event (from half a day before it starts until it ends)."""
    require_login(user)
    reg = registration_of(user, event)
    if reg is None or reg.status != "confirmed":
        raise PermissionDenied(_l("Register for the event first."))
    if event.status != "published":
        raise Conflict(_l("Check-in is open only while the event is on."))
    now = utc_now()
    if now < aware(event.starts_at) - EVENT_CHECK_IN_EARLY or now > aware(event.ends_at):
        raise Conflict(_l("Check-in opens on the day of the event."))
    reg = lock_instance(reg)
    if reg.checked_in_at is None:
        reg.checked_in_at = now
        db.session.flush()


def _side(user, meeting: MeetingRequest) -> str:
    uid = user_id_of(user)
    if uid == meeting.requester_id:
        return "requester"
    if uid == meeting.presenter_id:
        return "presenter"
    raise NotFound(_l("This meeting request does not exist."))


def check_in_meeting(user, meeting: MeetingRequest) -> MeetingRequest:
    """Either side says they are at the table (or in the video room), from shortly before the start to the end."""
    require_login(user)
    side = _side(user, meeting)
    meeting = lock_instance(meeting)
    start, end = meeting_time(meeting.event, meeting.slot), meeting_end(meeting.event, meeting.slot)
    if meeting.status != "accepted" or start is None:
        raise Conflict(_l("Only a meeting with a time can be checked in."))
    now = utc_now()
    if not start - CHECK_IN_EARLY <= now <= end:
        raise Conflict(_l("Check-in for a meeting opens 30 minutes before it starts and closes when it ends."))
    column = f"{side}_checked_in_at"
    if getattr(meeting, column) is None:
        setattr(meeting, column, now)
        db.session.flush()
    return meeting


def record_no_shows(now: datetime | None = None) -> dict:
    """For meetings that ended with only one side checked in, record the other side as a no-show (job)."""
    now = now or utc_now()
    rows = db.session.scalars(select(MeetingRequest).where(
        MeetingRequest.status == "accepted", MeetingRequest.slot.isnot(None), MeetingRequest.no_show_id.is_(None),
        (MeetingRequest.requester_checked_in_at.isnot(None)) != (MeetingRequest.presenter_checked_in_at.isnot(None))))
    recorded = 0
    for meeting in rows:
        end = meeting_end(meeting.event, meeting.slot)
        if end is None or end > now:
            continue
        meeting.no_show_id = (meeting.presenter_id if meeting.requester_checked_in_at is not None
                              else meeting.requester_id)
        recorded += 1
    db.session.flush()
    return {"no_shows": recorded}


def video_link(event: Event, meeting: MeetingRequest) -> str:
    """The meeting's own room on the event's online meeting service (the event's address + the meeting id)."""
    if not event.meeting_url or meeting.status != "accepted":
        return ""
    return f"{event.meeting_url.rstrip('/')}/techbridge-{event.id}-{meeting.id}"


def note_of(user, meeting: MeetingRequest) -> str:
    """The user's own note on the meeting (nobody else reads it)."""
    uid = user_id_of(user)
    if uid is None:
        return ""
    row = db.session.scalar(select(MeetingNote).where(MeetingNote.meeting_id == meeting.id,
                                                      MeetingNote.author_id == uid))
    return row.body if row else ""


def save_note(user, meeting: MeetingRequest, body: str) -> MeetingNote:
    """Write or replace one's private note on a meeting."""
    require_login(user)
    _side(user, meeting)
    if meeting.status not in ("accepted", "cancelled"):
        raise Conflict(_l("Notes are for accepted meetings."))
    body = (body or "").strip()
    if len(body) > 10000:
        raise ValidationFailed(_l("The note is too long."), field_errors={"body": _l("The note is too long.")})
    row = db.session.scalar(select(MeetingNote).where(MeetingNote.meeting_id == meeting.id,
                                                      MeetingNote.author_id == user.id))
    if row is None:
        row = MeetingNote(meeting_id=meeting.id, author_id=user.id)
        db.session.add(row)
    row.body = body
    db.session.flush()
    return row


def other_side(user, meeting: MeetingRequest) -> int | None:
    return meeting.presenter_id if user_id_of(user) == meeting.requester_id else meeting.requester_id


def interest_offers(user, meeting: MeetingRequest) -> list[Offer]:
    """The other side's organisation's published offers, which an interest after the meeting may name."""
    other = other_side(user, meeting)
    org_ids = list(db.session.scalars(select(Membership.organization_id).where(Membership.user_id == other)))
    if not org_ids:
        return []
    return list(db.session.scalars(select(Offer).where(Offer.organization_id.in_(org_ids),
                                                       Offer.status == "published").order_by(Offer.id).limit(50)))


def mark_meeting_interest(user, meeting: MeetingRequest, kind: str, offer_id=None, note: str = "") -> EventInterest:
    """After (or during) a meeting, a side marks an interest: about the meeting's agenda item if it has one,
    else about the other side (perhaps one of their offers); the other side owns the follow-up."""
    require_login(user)
    _side(user, meeting)
    start = meeting_time(meeting.event, meeting.slot)
    if meeting.status != "accepted" or start is None:
        raise Conflict(_l("Interests are marked for meetings that took place."))
    checked_in = (meeting.requester_checked_in_at if user.id == meeting.requester_id
                  else meeting.presenter_checked_in_at)
    if checked_in is None and utc_now() < start:
        raise Conflict(_l("Interests are marked once the meeting has started."))
    if kind not in INTEREST_KINDS:
        raise ValidationFailed(_l("Unknown kind of interest."))
    if meeting.item is not None and user.id == meeting.requester_id:
        return mark_interest(user, meeting.event, meeting.item, kind, note)
    offer = None
    if offer_id not in (None, ""):
        offer = next((o for o in interest_offers(user, meeting) if o.id == to_int(offer_id)), None)
        if offer is None:
            raise ValidationFailed(_l("Pick one of the other side's published offers."))
    existing = db.session.scalar(select(EventInterest).where(EventInterest.meeting_id == meeting.id,
                                                             EventInterest.user_id == user.id,
                                                             EventInterest.kind == kind))
    if existing is not None:
        raise Conflict(_l("You have already marked this interest."))
    interest = EventInterest(event_id=meeting.event_id, meeting_id=meeting.id, agenda_item_id=None,
                             offer_id=offer.id if offer else None, user_id=user.id, kind=kind,
                             organization_id=min(user.org_ids) if user.org_ids else None,
                             note=(note or "").strip()[:2000], owner_id=other_side(user, meeting), status="open")
    db.session.add(interest)
    db.session.flush()
    return interest

"""Interests marked during events, the follow-ups they become, event reports and series totals."""
from __future__ import annotations

from collections import Counter

from flask_babel import lazy_gettext as _l
from marketplace.services.events.common import (
    INTEREST_LABELS,
    aware,
    can_manage,
    require_login,
    require_manage,
    require_view,
    to_int,
    user_id_of,
)
from marketplace.services.events.registration import confirmed_count, is_attendee
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.models import (
    AgendaItem,
    Event,
    EventInterest,
    EventSeries,
    Introduction,
    MeetingRequest,
    Need,
)
from marketplace.models.brokering import OPEN_PIPELINE_STAGES
from marketplace.models.events import INTEREST_KINDS
from marketplace.services import access, brokering
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

# --- interests and follow-ups -------------------------------------------------------------------------

def mark_interest(user, event: Event, item: AgendaItem, kind: str, note: str = "") -> EventInterest:
    """An attendee (or presenter's counterpart) wants to license, invest or trial; it becomes a follow-up."""
    require_login(user)
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
    if user_id_of(user) is None:
        return False
    org_id = interest_org_id(interest)
    return (interest.owner_id == user.id or access.is_broker(user) or can_manage(user, interest.event)
            or (org_id is not None and access.is_member_of(user, org_id)))


def interest_offer_id(interest: EventInterest) -> int | None:
    """The offer an interest is about: its agenda item's, or the one named after a meeting."""
    return interest.item.offer_id if interest.item is not None else interest.offer_id


def interest_org_id(interest: EventInterest) -> int | None:
    """The organisation whose members handle the follow-up (the item's, or the named offer's)."""
    if interest.item is not None:
        return interest.item.organization_id
    return interest.offer.organization_id if interest.offer is not None else None


def interest_title(interest: EventInterest, lang: str = "zh") -> str:
    """What the interest is about, for lists and messages."""
    if interest.item is not None:
        return interest.item.title(lang)
    if interest.offer is not None:
        return interest.offer.title(lang)
    meeting = interest.meeting
    other = meeting.presenter if meeting and meeting.requester_id == interest.user_id else (
        meeting.requester if meeting else None)
    return str(_l("1:1 meeting with %(name)s", name=other.display_name if other else "—"))


def get_interest(user, interest_id) -> EventInterest:
    interest = db.session.get(EventInterest, to_int(interest_id) or 0)
    if interest is None or not (can_handle_follow_up(user, interest) or interest.user_id == user_id_of(user)):
        raise NotFound(_l("This follow-up does not exist."))
    return interest


def follow_ups(user, event: Event) -> list[EventInterest]:
    """The event's follow-ups this user handles (all of them for organisers, operators and brokers)."""
    require_login(user)
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


def to_introduction(user, interest: EventInterest, need_id=None, message: str = "", *,
                    expiry_days: int) -> Introduction:
    """One action: propose a brokering introduction between the interested organisation and the item's offer."""
    if not can_handle_follow_up(user, interest):
        raise PermissionDenied(_l("You do not handle this follow-up."))
    if interest.status != "open":
        raise Conflict(_l("This follow-up is no longer open."))
    offer_id = interest_offer_id(interest)
    if offer_id is None:
        raise Conflict(_l("Only items from the catalogue can become introductions."))
    needs = interest_needs(interest)
    if need_id:
        need = next((n for n in needs if n.id == to_int(need_id)), None)
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
        item=interest_title(interest, "en")))
    intro = brokering.propose(user, need.id, offer_id, message, expiry_days=expiry_days)
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

"""Reads behind meeting recommendations: an event's participants and the engine's pairings between them."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from marketplace import visibility
from marketplace.extensions import db
from marketplace.models import MatchSuggestion, MeetingRequest, Membership, Need, Offer, Registration, User
from marketplace.services.events.recommendations import (
    DEFAULT_LIMIT,
    Attendee,
    Pairing,
    Recommendation,
    recommend_meetings,
)
from marketplace.services.match_reasons import safe_reasons
from marketplace.services.match_records import org_groups

OPEN_NEED_STATUSES = ("open", "matched")


def attendees(event) -> list[Attendee]:
    """Confirmed registrants with the organisations they belong to."""
    rows = db.session.execute(
        select(Registration.user_id, Membership.organization_id)
        .outerjoin(Membership, Membership.user_id == Registration.user_id)
        .where(Registration.event_id == event.id, Registration.status == "confirmed")).all()
    orgs: dict[int, set] = {}
    for user_id, org_id in rows:
        orgs.setdefault(user_id, set())
        if org_id is not None:
            orgs[user_id].add(org_id)
    return [Attendee(user_id, frozenset(ids)) for user_id, ids in sorted(orgs.items())]


def pairings(viewer, organization_ids: set[int]) -> list[Pairing]:
    """Stored pairings (group leaders) of an open need and a published offer of these organisations, kept
    when the viewer may open both; their reasons trimmed to what the viewer may read."""
    if not organization_ids:
        return []
    rows = db.session.scalars(
        select(MatchSuggestion).join(Need, Need.id == MatchSuggestion.need_id)
        .join(Offer, Offer.id == MatchSuggestion.offer_id)
        .where(Need.organization_id.in_(organization_ids), Offer.organization_id.in_(organization_ids),
               Need.organization_id != Offer.organization_id, Need.status.in_(OPEN_NEED_STATUSES),
               Offer.status == "published", MatchSuggestion.similar_to_offer_id.is_(None))
        .options(selectinload(MatchSuggestion.need), selectinload(MatchSuggestion.offer))
        .order_by(MatchSuggestion.id))
    out = []
    for s in rows:
        if not (visibility.can_open(viewer, s.need) and visibility.can_open(viewer, s.offer)):
            continue
        out.append(Pairing(s.need.organization_id, s.offer.organization_id, s.need_id, s.offer_id,
                           {"zh": s.need.title("zh"), "en": s.need.title("en")},
                           {"zh": s.offer.title("zh"), "en": s.offer.title("en")}, s.strength,
                           tuple(safe_reasons(viewer, s.need, s.offer, s.reasons))))
    return out


def people(user_ids: list[int]) -> dict[int, User]:
    """Users by id, with their organisations loaded (for names on the page)."""
    if not user_ids:
        return {}
    users = db.session.scalars(select(User).where(User.id.in_(user_ids), User.active.is_(True))
                               .options(selectinload(User.memberships).selectinload(Membership.organization)))
    return {u.id: u for u in users}


def already_asked(event, user_id: int) -> set[int]:
    """People the user already has a pending or accepted meeting request with at the event (either side)."""
    rows = db.session.execute(select(MeetingRequest.requester_id, MeetingRequest.presenter_id).where(
        MeetingRequest.event_id == event.id, MeetingRequest.status.in_(("pending", "accepted")),
        or_(MeetingRequest.requester_id == user_id, MeetingRequest.presenter_id == user_id))).all()
    return {other for pair in rows for other in pair if other is not None and other != user_id}


def for_viewer(user, event, *, limit: int = DEFAULT_LIMIT) -> list[Recommendation]:
    """The viewer's own recommendations at ``event`` (pairings they may open, reasons they may read), each
    with ``participant`` the user to meet, leaving out people they already asked or were asked by; empty
    unless the viewer is a confirmed participant."""
    everyone = attendees(event)
    uid = getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None
    if uid is None or not any(a.person == uid for a in everyone):
        return []
    org_ids = {o for a in everyone for o in a.organization_ids}
    recs = recommend_meetings(everyone, pairings(user, org_ids), org_groups(), limit=limit,
                              exclude={uid: already_asked(event, uid)})[uid]
    users = people([r.participant for r in recs])
    return [Recommendation(users[r.participant], r.score, r.reasons) for r in recs if r.participant in users]

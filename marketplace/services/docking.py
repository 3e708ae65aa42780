"""Docking (对接): members ask for introductions themselves, and the two sides talk and see each other's contacts.

A member of any organisation asks from an offer, a patent, a need or an organisation page (or a match). The
request is an ``Introduction`` with ``source="request"``: the requester's side counts as accepted, the other side
accepts or declines (``services.brokering.respond``), and expiry and reminders work as for brokered ones. Once both
sides accept, the conversation and the contacts open. Services only flush; the caller's unit of work commits.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Introduction, Membership, Need, Offer, Organization, User
from marketplace.models.brokering import OPEN_PIPELINE_STAGES, REQUEST_PURPOSES
from marketplace.services import access, audit, brokering, locks, notifications
from marketplace.services.cleaning import parse_id, plain_text
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

OPEN_NEED_STATUSES = ("open", "matched")
MESSAGE_LIMIT = 2000


def _now() -> datetime:
    return datetime.now(timezone.utc)


def acting_organization(user, organization_id=None) -> Organization:
    """The organisation the user asks for: the one named (theirs), else their only one."""
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_l("Log in to request an introduction."))
    own = sorted(user.org_ids)
    if not own:
        raise PermissionDenied(_l("Join or register an organisation before you request an introduction."))
    chosen = parse_id(organization_id) if organization_id not in (None, "") else (own[0] if len(own) == 1 else None)
    if chosen is None:
        raise ValidationFailed(_l("Say for which of your organisations you ask."),
                               field_errors={"organization_id": _l("Choose one of your organisations.")})
    if chosen not in own:
        raise PermissionDenied(_l("You can only ask for an organisation you belong to."))
    return locks.lock(Organization, chosen)  # one request at a time per organisation


def _target(user, offer_id, need_id, organization_id) -> tuple[str, Offer | None, Need | None, Organization]:
    """What the request is about: ("offer", offer, None, org) / ("need", None, need, org) / ("organization", …)."""
    given = [k for k, v in (("offer", offer_id), ("need", need_id), ("organization", organization_id))
             if v not in (None, "")]
    if len(given) != 1:
        raise ValidationFailed(_l("Name one offer, need or organisation to ask about."))
    if given == ["offer"]:
        offer = db.session.get(Offer, parse_id(offer_id) or 0)
        if offer is None or offer.status != "published" or not access.can_view_offer(user, offer):
            raise NotFound(_l("This offer does not exist or is not published."))
        return "offer", offer, None, offer.organization
    if given == ["need"]:
        need = db.session.get(Need, parse_id(need_id) or 0)
        if need is None or need.status not in OPEN_NEED_STATUSES or not access.can_view_need(user, need):
            raise NotFound(_l("This need does not exist or is no longer open."))
        return "need", None, need, need.organization
    org = db.session.get(Organization, parse_id(organization_id) or 0)
    if org is None:
        raise NotFound(_l("This organisation does not exist."))
    return "organization", None, None, org


def _own_item(model, item_id, organization: Organization, label):
    """The requester's own need or offer the request concerns (optional)."""
    if item_id in (None, ""):
        return None
    item = db.session.get(model, parse_id(item_id) or 0)
    if item is None or item.organization_id != organization.id:
        raise ValidationFailed(label, field_errors={"own_item": label})
    return item


def _clean_text(value, limit: int, field: str, *, required: bool) -> str:
    text = plain_text(value)
    if required and not text:
        raise ValidationFailed(_l("Write a short message."), field_errors={field: _l("This field is required.")})
    if len(text) > limit:
        raise ValidationFailed(_l("At most %(n)d characters.", n=limit), field_errors={field: _l("Too long.")})
    return text


def live_request(first_org_id: int, second_org_id: int, offer_id, need_id) -> Introduction | None:
    """An open introduction of the same two organisations about the same things, if any."""
    pair = {first_org_id, second_org_id}
    query = select(Introduction).where(
        Introduction.need_organization_id.in_(pair), Introduction.offer_organization_id.in_(pair),
        Introduction.stage.in_(("proposed",) + OPEN_PIPELINE_STAGES),
        Introduction.offer_id.is_(None) if offer_id is None else Introduction.offer_id == offer_id,
        Introduction.need_id.is_(None) if need_id is None else Introduction.need_id == need_id)
    return db.session.scalars(query.limit(1)).first()


def request_introduction(user, *, offer_id=None, need_id=None, organization_id=None, as_organization_id=None,
                         own_need_id=None, own_offer_id=None, purpose: str = "", message: str = "",
                         mediation: bool = False, expiry_days: int,
                         unverified_may_request: bool = True) -> Introduction:
    """A member asks to be introduced to the organisation behind an offer, a need or a profile.

    The requester's side counts as accepted; the other side is asked (and told) to answer within
    ``expiry_days``. With ``mediation`` a technology manager is asked to mediate (broker queue). Without
    ``unverified_may_request`` (the ``UNVERIFIED_MAY_REQUEST_INTRODUCTIONS`` setting) only verified organisations ask.
    """
    requester = acting_organization(user, as_organization_id)
    if not unverified_may_request and not requester.verified:
        raise PermissionDenied(_l("Only verified organisations may request introductions. An owner of your "
                                  "organisation can ask for verification on its profile page."))
    kind, offer, need, target = _target(user, offer_id, need_id, organization_id)
    if target.id == requester.id:
        raise ValidationFailed(_l("You cannot request an introduction to your own organisation."))
    if purpose not in REQUEST_PURPOSES:
        raise ValidationFailed(_l("Choose what the introduction is for."),
                               field_errors={"purpose": _l("Choose one.")})
    message = _clean_text(message, MESSAGE_LIMIT, "message", required=True)
    if kind == "need":  # the requester answers a need: they are the offering side
        requester_side = "offer"
        offer = _own_item(Offer, own_offer_id, requester, _l("Pick one of your own offers."))
    else:  # about an offer or an organisation: the requester is the side with the need
        requester_side = "need"
        need = _own_item(Need, own_need_id, requester, _l("Pick one of your own needs."))
    need_org, offer_org = (requester, target) if requester_side == "need" else (target, requester)
    existing = live_request(requester.id, target.id, offer.id if offer else None, need.id if need else None)
    if existing is not None:
        raise Conflict(_l("Your organisation already has an open introduction with them about this "
                          "(number %(id)d).", id=existing.id))
    now = _now()
    intro = Introduction(need_id=need.id if need else None, offer_id=offer.id if offer else None,
                         need_organization_id=need_org.id, offer_organization_id=offer_org.id,
                         source="request", requested_by_id=user.id, requester_side=requester_side,
                         purpose=purpose, mediation_requested=bool(mediation), message=message,
                         stage="proposed", stage_changed_at=now, expires_at=now + timedelta(days=expiry_days))
    setattr(intro, f"{requester_side}_response", "accepted")
    setattr(intro, f"{requester_side}_responded_by_id", user.id)
    setattr(intro, f"{requester_side}_responded_at", now)
    db.session.add(intro)
    db.session.flush()
    brokering.record(intro, user, "requested", to_stage="proposed", reason=message, side=requester_side)
    audit.record(db.session, actor_id=user.id, action="docking", object_type="introduction",
                 object_id=intro.id, organization_id=requester.id,
                 summary=f"request {requester_side} -> {target.id}",
                 details={"target": kind, "offer_id": intro.offer_id, "need_id": intro.need_id,
                          "purpose": purpose, "mediation": bool(mediation)})
    brokering.changed(intro)
    other = "offer" if requester_side == "need" else "need"
    notifications.introduction_requested(intro, user, other)
    return intro


CLOSED_STAGES = ("declined", "expired", "signed", "lost")


def can_join(user, intro: Introduction) -> bool:
    """Technology managers may take on an open introduction that has none."""
    return access.is_broker(user) and intro.broker_id is None and intro.stage not in CLOSED_STAGES


def join_as_broker(user, intro: Introduction) -> Introduction:
    """A technology manager takes on an introduction that has none (to mediate and follow it)."""
    if not access.is_broker(user):
        raise PermissionDenied(_l("Only technology managers and operators mediate introductions."))
    if intro is None:
        raise NotFound(_l("This introduction does not exist or is not visible to you."))
    intro = locks.lock_instance(intro)  # two managers taking it on at once: one wins
    if intro.broker_id is not None:
        raise Conflict(_l("A technology manager already follows this introduction."))
    if intro.stage in CLOSED_STAGES:
        raise Conflict(_l("This introduction is closed."))
    intro.broker_id = user.id
    brokering.record(intro, user, "joined", from_stage=intro.stage, to_stage=intro.stage)
    brokering.changed(intro)
    return intro


def mediation_queue(user, limit: int = 50) -> list[Introduction]:
    """Members' requests that ask for a technology manager and have none yet (brokers, operators)."""
    if not access.is_broker(user):
        raise PermissionDenied(_l("Only technology managers and operators see the pairing queue."))
    return list(db.session.scalars(select(Introduction).where(
        Introduction.source == "request", Introduction.mediation_requested.is_(True),
        Introduction.broker_id.is_(None), Introduction.stage.in_(("proposed",) + OPEN_PIPELINE_STAGES))
        .order_by(Introduction.created_at.desc()).limit(limit)))


# --- contacts -------------------------------------------------------------------------------------------

def _person_for(intro: Introduction, side: str) -> User | None:
    """Who speaks for a side: the person who answered (or asked), if still a member."""
    return db.session.get(User, getattr(intro, f"{side}_responded_by_id") or 0)


def contacts(user, intro: Introduction) -> list[dict]:
    """Each side's named contact person, e-mail and phone, once both sides accepted; [] before (no leak)."""
    brokering.require_view(user, intro)
    if not intro.both_accepted:
        return []
    result = []
    for side in ("need", "offer"):
        org = intro.organization_of(side)
        person = _person_for(intro, side)
        membership = None
        if person is not None:
            membership = db.session.scalar(select(Membership).where(
                Membership.user_id == person.id, Membership.organization_id == org.id))
        result.append({
            "side": side, "organization": org,
            "name": (person.display_name if membership else "") or org.contact_name or "",
            "email": (membership.contact_email if membership else "") or org.contact_email
            or (person.email if membership else ""),
            "phone": (membership.contact_phone if membership else "") or org.contact_phone or "",
        })
    return result

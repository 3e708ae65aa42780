"""Reads for "My docking": requests sent and received, conversations with unread counts, introductions by stage."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.models import Introduction, IntroductionMessage, IntroductionReadMarker, Membership, Need, Offer
from marketplace.models.brokering import PIPELINE_STAGES
from marketplace.services import brokering, conversations

LIST_LIMIT = 200


@dataclass
class Docking:
    """What one person's docking page shows."""
    sent: list[Introduction] = field(default_factory=list)       # our requests waiting for the other side
    received: list[Introduction] = field(default_factory=list)   # requests waiting for our answer
    conversations: list[tuple[Introduction, int, int]] = field(default_factory=list)  # (intro, messages, unread)
    by_stage: dict[str, list[Introduction]] = field(default_factory=dict)

    @property
    def waiting(self) -> int:
        """Items waiting for this person: requests to answer and threads with unread messages."""
        return len(self.received) + sum(1 for _, _, unread in self.conversations if unread)


def _mine(user):
    return (select(Introduction).where(brokering.visibility_clause(user))
            .options(selectinload(Introduction.need), selectinload(Introduction.offer),
                     selectinload(Introduction.need_organization), selectinload(Introduction.offer_organization))
            .order_by(Introduction.stage_changed_at.desc(), Introduction.id.desc()).limit(LIST_LIMIT))


def my_docking(user) -> Docking:
    """The docking page of ``user``: everything about their organisations' introductions (and the ones they
    broker)."""
    result = Docking()
    if not getattr(user, "is_authenticated", False):
        return result
    intros = list(db.session.scalars(_mine(user)))
    for intro in intros:
        if intro.stage == "proposed":
            pending = brokering.pending_sides(user, intro)
            if pending:
                result.received.append(intro)
            elif brokering.sides_of(user, intro):
                result.sent.append(intro)
        result.by_stage.setdefault(intro.stage, []).append(intro)
    talking = [i for i in intros if i.stage in PIPELINE_STAGES]
    counts = dict(db.session.execute(select(IntroductionMessage.introduction_id, func.count(IntroductionMessage.id))
                                     .where(IntroductionMessage.introduction_id.in_([i.id for i in talking]))
                                     .group_by(IntroductionMessage.introduction_id)).all()) if talking else {}
    unread = conversations.unread_by_introduction(user, [i.id for i in talking])
    result.conversations = [(i, counts.get(i.id, 0), unread.get(i.id, 0)) for i in talking]
    return result


def waiting_count(user) -> int:
    """The navigation badge: requests waiting for the user's answer plus conversations with unread messages
    (two counting statements: it is on every page)."""
    if not getattr(user, "is_authenticated", False) or not (user.org_ids or user.role_names):
        return 0
    orgs = sorted(user.org_ids)
    to_answer = 0
    if orgs:
        to_answer = db.session.scalar(select(func.count(Introduction.id)).where(
            Introduction.stage == "proposed", Introduction.expires_at > datetime.now(timezone.utc),
            or_(and_(Introduction.need_organization_id.in_(orgs), Introduction.need_response == "pending"),
                and_(Introduction.offer_organization_id.in_(orgs), Introduction.offer_response == "pending")))) or 0
    marker = (select(IntroductionReadMarker.last_read_message_id)
              .where(IntroductionReadMarker.introduction_id == IntroductionMessage.introduction_id,
                     IntroductionReadMarker.user_id == user.id).scalar_subquery())
    unread = db.session.scalar(
        select(func.count(func.distinct(IntroductionMessage.introduction_id)))
        .join(Introduction, Introduction.id == IntroductionMessage.introduction_id)
        .where(brokering.visibility_clause(user), Introduction.stage.in_(PIPELINE_STAGES),
               IntroductionMessage.author_id != user.id, IntroductionMessage.id > func.coalesce(marker, 0))) or 0
    return to_answer + unread


def own_items(user, organization_id: int) -> tuple[list[Need], list[Offer]]:
    """The organisation's open needs and published offers, for "what does this concern" in a request."""
    if organization_id not in getattr(user, "org_ids", set()):
        return [], []
    needs = list(db.session.scalars(select(Need).where(Need.organization_id == organization_id,
                                                       Need.status.in_(("open", "matched"))).order_by(Need.id.desc())
                                    .limit(LIST_LIMIT)))
    offers = list(db.session.scalars(select(Offer).where(Offer.organization_id == organization_id,
                                                         Offer.status == "published").order_by(Offer.id.desc())
                                     .limit(LIST_LIMIT)))
    return needs, offers


def thread(user, intro: Introduction) -> list[IntroductionMessage]:
    """The whole conversation of an introduction for its page (oldest first)."""
    return list(db.session.scalars(select(IntroductionMessage).where(
        IntroductionMessage.introduction_id == conversations.require_thread(user, intro).id)
        .options(selectinload(IntroductionMessage.author), selectinload(IntroductionMessage.attachment))
        .order_by(IntroductionMessage.id).limit(1000)))


def reported_messages(limit: int = 100) -> list[IntroductionMessage]:
    """Messages reported to the operators, newest first."""
    return list(db.session.scalars(select(IntroductionMessage).where(IntroductionMessage.reported_at.isnot(None))
                                   .order_by(IntroductionMessage.reported_at.desc()).limit(limit)))


def organizations_of(user) -> list:
    """The user's organisations (for choosing which one asks)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [m.organization for m in db.session.scalars(select(Membership).where(Membership.user_id == user.id)
                                                       .options(selectinload(Membership.organization)))]


@dataclass
class Subject:
    """What a request is about, for the form's heading."""
    kind: str  # offer / need / organization
    title: object  # the row whose ``title`` / ``name`` the template localises
    organization: object


def request_subject(user, offer_id=None, need_id=None, organization_id=None) -> Subject | None:
    """The offer, need or organisation named in a request form, if ``user`` may see it (else None)."""
    from marketplace.models import Organization
    from marketplace.services import access
    from marketplace.services.cleaning import parse_id
    if offer_id:
        offer = db.session.get(Offer, parse_id(offer_id) or 0)
        if offer is not None and offer.status == "published" and access.can_view_offer(user, offer):
            return Subject("offer", offer, offer.organization)
    elif need_id:
        need = db.session.get(Need, parse_id(need_id) or 0)
        if need is not None and need.status in ("open", "matched") and access.can_view_need(user, need):
            return Subject("need", need, need.organization)
    elif organization_id:
        org = db.session.get(Organization, parse_id(organization_id) or 0)
        if org is not None:
            return Subject("organization", org, org)
    return None


def conversation_view(user, intro: Introduction) -> dict:
    """What an introduction's page shows of the conversation and the contacts to ``user``."""
    from marketplace.services import docking
    if not conversations.may_read(user, intro):
        return {"readable": False}
    return {"readable": True, "open": conversations.is_open(intro), "messages": thread(user, intro),
            "contacts": docking.contacts(user, intro)}

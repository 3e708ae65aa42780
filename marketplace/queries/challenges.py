"""Reads of open challenges: the public list with filters, one's own challenges and proposals, the questions and
clarifications a viewer may read, and the proposals of a challenge as the viewer may see them."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from marketplace import visibility
from marketplace.extensions import db
from marketplace.models import (
    Challenge,
    ChallengeClarification,
    ChallengeConflict,
    ChallengePanelMember,
    ChallengeProposal,
    ChallengeQuestion,
    ChallengeScore,
    Field,
    Organization,
)
from marketplace.queries.paging import Page, fetch_page, valid_id
from marketplace.services.challenges import common
from marketplace.services.errors import NotFound

# The list's status filter: what a visitor calls open, closed and awarded.
LIST_STATUSES = ("open", "closed", "awarded")
CHALLENGE_LOAD = (selectinload(Challenge.organization), selectinload(Challenge.fields),
                  selectinload(Challenge.criteria))


def get_challenge(viewer, challenge_id: int) -> Challenge:
    """The challenge ``viewer`` may open, else NotFound."""
    challenge = db.session.get(Challenge, challenge_id) if valid_id(challenge_id) else None
    if challenge is None or not visibility.can_open(viewer, challenge):
        raise NotFound(common.NOT_FOUND)
    return challenge


def _status_clause(status: str | None, at: datetime):
    if status == "open":
        return and_(Challenge.status == "published", Challenge.deadline > at)
    if status == "closed":
        return or_(Challenge.status.in_(("closed", "in_evaluation")),
                   and_(Challenge.status == "published", Challenge.deadline <= at))
    if status == "awarded":
        return Challenge.status.in_(("awarded", "delivered"))
    return Challenge.status.in_(visibility.CHALLENGE_PUBLIC_STATUSES)


def list_challenges(viewer, *, status: str | None = None, field: str | None = None, kind: str | None = None,
                    award_min: Decimal | None = None, award_max: Decimal | None = None,
                    organization_id: int | None = None, page: int = 1, per_page: int) -> Page:
    """Published challenges (open ones first by deadline, then the rest newest first), filtered by status, field,
    the challenger's kind of organisation and an award range (challenges whose award range meets it)."""
    at = common.now()
    query = (select(Challenge).where(visibility.open_clause(viewer, Challenge), _status_clause(status, at))
             .options(*CHALLENGE_LOAD))
    if field:
        query = query.where(Challenge.fields.any(or_(Field.code == field, Field.code.startswith(f"{field}."))))
    if kind:
        query = query.where(Challenge.organization.has(Organization.kind == kind))
    if organization_id:
        query = query.where(Challenge.organization_id == organization_id)
    if award_min is not None:
        query = query.where(func.coalesce(Challenge.award_max_rmb, Challenge.award_min_rmb) >= award_min)
    if award_max is not None:
        query = query.where(func.coalesce(Challenge.award_min_rmb, Challenge.award_max_rmb) <= award_max)
    still_open = and_(Challenge.status == "published", Challenge.deadline > at)
    order = (still_open.desc(), Challenge.deadline.asc()) if status == "open" else \
        (Challenge.published_at.desc(), Challenge.id.desc())
    return fetch_page(query.order_by(*order, Challenge.id.desc()), page, per_page)


def challenges_of_organizations(org_ids) -> list[Challenge]:
    """The challenges of the member's organisations, every status, latest change first."""
    if not org_ids:
        return []
    return list(db.session.scalars(select(Challenge).where(Challenge.organization_id.in_(list(org_ids)))
                                   .order_by(Challenge.updated_at.desc(), Challenge.id.desc())))


def review_queue_count() -> int:
    """Challenges waiting for an operator."""
    return db.session.scalar(select(func.count(Challenge.id)).where(Challenge.status == "submitted")) or 0


def questions_for(viewer, challenge: Challenge) -> list[ChallengeQuestion]:
    """Questions the viewer may read: publicly answered ones; the challenger and operators see all; an asker
    sees their own."""
    query = select(ChallengeQuestion).where(ChallengeQuestion.challenge_id == challenge.id)
    if not common.may_manage(viewer, challenge):
        mine = ChallengeQuestion.asker_id == viewer.id if getattr(viewer, "is_authenticated", False) else False
        query = query.where(or_(ChallengeQuestion.answer_visibility == "public", mine))
    return list(db.session.scalars(query.order_by(ChallengeQuestion.created_at, ChallengeQuestion.id)))


def clarifications(challenge: Challenge) -> list[ChallengeClarification]:
    """The public clarifications, in order."""
    return list(db.session.scalars(select(ChallengeClarification).where(
        ChallengeClarification.challenge_id == challenge.id).order_by(ChallengeClarification.number)))


def proposals_for(viewer, challenge: Challenge) -> list[ChallengeProposal]:
    """The challenge's proposals the viewer may open (the challenger and panel: all but drafts; a solver: their
    own organisation's only)."""
    return list(db.session.scalars(
        select(ChallengeProposal).where(ChallengeProposal.challenge_id == challenge.id,
                                        visibility.PROPOSAL_OPEN.clause(viewer))
        .options(selectinload(ChallengeProposal.lead_organization), selectinload(ChallengeProposal.members))
        .order_by(ChallengeProposal.submitted_at.is_(None), ChallengeProposal.submitted_at, ChallengeProposal.id)))


def own_proposal(viewer, challenge: Challenge) -> ChallengeProposal | None:
    """The proposal one of the viewer's organisations leads on this challenge, if any."""
    orgs = sorted(getattr(viewer, "org_ids", []) or []) if getattr(viewer, "is_authenticated", False) else []
    if not orgs:
        return None
    return db.session.scalar(select(ChallengeProposal).where(
        ChallengeProposal.challenge_id == challenge.id, ChallengeProposal.lead_organization_id.in_(orgs))
        .order_by(ChallengeProposal.id).limit(1))


def proposals_of_organizations(org_ids) -> list[ChallengeProposal]:
    """Proposals the member's organisations lead or take part in, latest change first."""
    if not org_ids:
        return []
    from marketplace.models.challenges import challenge_proposal_members
    member_of = select(challenge_proposal_members.c.proposal_id).where(
        challenge_proposal_members.c.organization_id.in_(list(org_ids)))
    return list(db.session.scalars(
        select(ChallengeProposal).where(or_(ChallengeProposal.lead_organization_id.in_(list(org_ids)),
                                            ChallengeProposal.id.in_(member_of)))
        .options(selectinload(ChallengeProposal.challenge)).order_by(ChallengeProposal.updated_at.desc())))


def consortium_choices(challenge: Challenge, lead_id: int | None) -> list[Organization]:
    """Organisations that may join a consortium (everyone but the challenger and the lead), by name."""
    query = select(Organization).where(Organization.id != challenge.organization_id,
                                       Organization.kind.in_(common.SOLVER_KINDS))
    if lead_id:
        query = query.where(Organization.id != lead_id)
    return list(db.session.scalars(query.order_by(Organization.name_zh).limit(500)))


def panel_seats_of(user_id: int) -> list[dict]:
    """The evaluation panels the user sits on, newest challenge first: ``{"seat", "challenge", "to_do"}`` where
    ``to_do`` counts the proposals of a challenge under evaluation the user has neither scored nor declared a
    conflict with (0 once the evaluation is over)."""
    from marketplace.services.challenges.evaluation import EVALUATED_STATUSES

    seats = db.session.execute(select(ChallengePanelMember, Challenge)
                               .join(Challenge, Challenge.id == ChallengePanelMember.challenge_id)
                               .where(ChallengePanelMember.user_id == user_id)
                               .order_by(ChallengePanelMember.challenge_id.desc())).all()
    rows = []
    for seat, challenge in seats:
        to_do = 0
        if challenge.status == "in_evaluation":
            done = select(ChallengeScore.proposal_id).where(ChallengeScore.panel_member_id == seat.id).union(
                select(ChallengeConflict.proposal_id).where(ChallengeConflict.panel_member_id == seat.id,
                                                            ChallengeConflict.has_conflict.is_(True)))
            to_do = db.session.scalar(select(func.count(ChallengeProposal.id)).where(
                ChallengeProposal.challenge_id == seat.challenge_id,
                ChallengeProposal.status.in_(EVALUATED_STATUSES), ChallengeProposal.id.not_in(done))) or 0
        rows.append({"seat": seat, "challenge": challenge, "to_do": to_do})
    return rows

"""Reads behind the challenge reports: one challenge's proposals and milestones, and the funnel across challenges.

Counts only; who may read them is decided by ``services.challenges.reports``.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.models import Organization
from marketplace.models.challenges import (Challenge, ChallengeAward, ChallengeMilestone, ChallengeProposal)

RECEIVED_STATUSES = ("submitted", "withdrawn", "shortlisted", "awarded", "not_selected")  # ever submitted
FUNNEL_STEPS = ("published", "proposals", "awarded", "delivered")


def proposals_by_status(challenge_id: int) -> dict[str, int]:
    """Proposal counts by status (drafts included, as ``draft``)."""
    return dict(db.session.execute(select(ChallengeProposal.status, func.count(ChallengeProposal.id))
                                   .where(ChallengeProposal.challenge_id == challenge_id)
                                   .group_by(ChallengeProposal.status)).all())


def received_by_org_kind(challenge_id: int) -> dict[str, int]:
    """Proposals received (ever submitted), counted by the kind of their lead organisation."""
    rows = db.session.execute(
        select(Organization.kind, func.count(ChallengeProposal.id))
        .join(Organization, Organization.id == ChallengeProposal.lead_organization_id)
        .where(ChallengeProposal.challenge_id == challenge_id, ChallengeProposal.status.in_(RECEIVED_STATUSES))
        .group_by(Organization.kind).order_by(Organization.kind))
    return dict(rows.all())


def milestones_of(challenge_id: int) -> list[ChallengeMilestone]:
    """The challenge's milestones, by award and position."""
    return list(db.session.scalars(select(ChallengeMilestone).where(ChallengeMilestone.challenge_id == challenge_id)
                                   .order_by(ChallengeMilestone.award_id, ChallengeMilestone.position)))


def proposals_for_export(challenge_id: int) -> list[ChallengeProposal]:
    """Every proposal received, with its lead organisation and consortium, in submission order."""
    return list(db.session.scalars(
        select(ChallengeProposal).where(ChallengeProposal.challenge_id == challenge_id,
                                        ChallengeProposal.status.in_(RECEIVED_STATUSES))
        .options(selectinload(ChallengeProposal.lead_organization), selectinload(ChallengeProposal.members))
        .order_by(ChallengeProposal.submitted_at, ChallengeProposal.id)))


def funnel_counts(organization_ids: set[int] | None = None) -> dict[str, int]:
    """Challenges ever published, with at least one proposal received, awarded, delivered (optionally only the
    given challengers')."""
    scope = select(Challenge.id).where(Challenge.published_at.is_not(None))
    if organization_ids is not None:
        scope = scope.where(Challenge.organization_id.in_(organization_ids or {0}))
    published = db.session.scalar(select(func.count()).select_from(scope.subquery())) or 0
    with_proposals = db.session.scalar(
        select(func.count(func.distinct(ChallengeProposal.challenge_id)))
        .where(ChallengeProposal.challenge_id.in_(scope), ChallengeProposal.status.in_(RECEIVED_STATUSES))) or 0
    awarded = db.session.scalar(select(func.count(func.distinct(ChallengeAward.challenge_id)))
                                .where(ChallengeAward.challenge_id.in_(scope))) or 0
    delivered = db.session.scalar(select(func.count(Challenge.id)).where(Challenge.id.in_(scope),
                                                                         Challenge.status == "delivered")) or 0
    return {"published": published, "proposals": with_proposals, "awarded": awarded, "delivered": delivered}


def award_times(organization_ids: set[int] | None = None) -> list[tuple]:
    """(published_at, awarded_at) of every awarded challenge, for the time to award."""
    query = select(Challenge.published_at, Challenge.awarded_at).where(Challenge.published_at.is_not(None),
                                                                       Challenge.awarded_at.is_not(None))
    if organization_ids is not None:
        query = query.where(Challenge.organization_id.in_(organization_ids or {0}))
    return list(db.session.execute(query).all())


def challenges_by_status() -> dict[str, int]:
    """All challenges counted by status."""
    return dict(db.session.execute(select(Challenge.status, func.count(Challenge.id))
                                   .group_by(Challenge.status)).all())

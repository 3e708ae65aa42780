"""Counts for the Workspace menu: what waits for the signed-in person in each of their roles."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import IntroductionTask, Offer, OrganizationVerification
from marketplace.visibility import Viewer


def waiting(user, viewer: Viewer) -> dict[str, int]:
    """{"follow_ups": overdue follow-ups the user owns, "offers": offers awaiting review, "organizations":
    organisations awaiting verification}; the last two only for operators (one counting statement each); and the
    challenge counts of ``_challenges``."""
    if not getattr(user, "is_authenticated", False):
        return {}
    counts = {"follow_ups": db.session.scalar(select(func.count(IntroductionTask.id)).where(
        IntroductionTask.owner_id == user.id, IntroductionTask.done_at.is_(None),
        IntroductionTask.due_on < date.today())) or 0}
    counts.update(_park_services(user))
    counts.update(_challenges(user, viewer))
    if viewer.is_staff:
        counts["offers"] = db.session.scalar(select(func.count(Offer.id)).where(Offer.status == "submitted")) or 0
        counts["organizations"] = db.session.scalar(select(func.count(OrganizationVerification.id)).where(
            OrganizationVerification.status == "pending")) or 0
    return counts


def _park_services(user) -> dict[str, int]:
    """Parts of filings waiting for the user's offices, reports waiting in the user's sub-parks (keys only for
    people who hold those posts)."""
    from marketplace.models import LiaisonReport, PolicyFilingPart, PolicyOfficeStaff, SubParkStaff
    counts = {}
    offices = list(db.session.scalars(select(PolicyOfficeStaff.office_id).where(PolicyOfficeStaff.user_id == user.id)))
    if offices:
        counts["policy_office"] = db.session.scalar(select(func.count(PolicyFilingPart.id)).where(
            PolicyFilingPart.office_id.in_(offices),
            PolicyFilingPart.status.not_in(("supported", "declined")))) or 0
    parks = list(db.session.scalars(select(SubParkStaff.sub_park).where(SubParkStaff.user_id == user.id)))
    if parks:
        counts["sub_park"] = db.session.scalar(select(func.count(LiaisonReport.id)).where(
            LiaisonReport.sub_park.in_(parks), LiaisonReport.status == "open")) or 0
    return counts


def _challenges(user, viewer: Viewer) -> dict[str, int]:
    """Unanswered questions on the challenges of the user's organisations ("challenge_questions", only for
    challengers), proposals waiting for the user's evaluation ("evaluations", only for panel members) and, for
    operators, challenges waiting for verification ("challenges")."""
    from marketplace.models import Challenge, ChallengeQuestion
    from marketplace.queries.challenges import panel_seats_of
    counts = {}
    seats = panel_seats_of(user.id)
    if seats:
        counts["evaluations"] = sum(row["to_do"] for row in seats)
    if viewer.org_ids:
        mine = select(Challenge.id).where(Challenge.organization_id.in_(sorted(viewer.org_ids)))
        if db.session.scalar(select(func.count()).select_from(mine.subquery())):
            counts["challenge_questions"] = db.session.scalar(select(func.count(ChallengeQuestion.id)).where(
                ChallengeQuestion.challenge_id.in_(mine), ChallengeQuestion.answered_at.is_(None))) or 0
    if viewer.is_staff:
        counts["challenges"] = db.session.scalar(select(func.count(Challenge.id)).where(
            Challenge.status == "submitted")) or 0
    return counts

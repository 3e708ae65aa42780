"""Counts for the Workspace menu: what waits for the signed-in person in each of their roles."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import IntroductionTask, Offer, OrganizationVerification
from marketplace.visibility import Viewer


def waiting(user, viewer: Viewer) -> dict[str, int]:
    """{"follow_ups": overdue follow-ups the user owns, "offers": offers awaiting review, "organizations":
    organisations awaiting verification}; the last two only for operators (one counting statement each)."""
    if not getattr(user, "is_authenticated", False):
        return {}
    counts = {"follow_ups": db.session.scalar(select(func.count(IntroductionTask.id)).where(
        IntroductionTask.owner_id == user.id, IntroductionTask.done_at.is_(None),
        IntroductionTask.due_on < date.today())) or 0}
    if viewer.is_staff:
        counts["offers"] = db.session.scalar(select(func.count(Offer.id)).where(Offer.status == "submitted")) or 0
        counts["organizations"] = db.session.scalar(select(func.count(OrganizationVerification.id)).where(
            OrganizationVerification.status == "pending")) or 0
    return counts

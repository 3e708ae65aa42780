"""Follow-ups that are due and the rating asked of both sides some months after a deal was signed or lost.

Both run as jobs after every brokering change and in the periodic sweep (``marketplace.tasks.brokering``).
"""
from __future__ import annotations

import calendar
from datetime import date, datetime, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, literal, or_, select
from sqlalchemy.orm import selectinload

from marketplace import jobs
from marketplace.extensions import db
from marketplace.links import path_for
from marketplace.models import FollowupRating, Introduction, IntroductionTask, Notification
from marketplace.models.notifications import RATING_ANSWERS
from marketplace.services import access, notifications
from marketplace.services.errors import NotFound, PermissionDenied, ValidationFailed

FOLLOWUPS_JOB = "notifications.followups_due"
RATING_JOB = "notifications.rating_requests"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _uid(user) -> int | None:
    return getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None


def schedule_due_work() -> None:
    """Check due follow-ups and rating requests after each brokering change (like the expiry sweep)."""
    jobs.enqueue(db.session, FOLLOWUPS_JOB)
    jobs.enqueue(db.session, RATING_JOB)


# --- follow-ups that are due (job) --------------------------------------------------------------------

def _not_told(prefix: str, suffix: str):
    key = literal(prefix) + cast(IntroductionTask.id, String) + literal(suffix)
    return ~select(Notification.id).where(Notification.dedupe_key == key).exists()


def followups_due(today: date | None = None) -> dict:
    """Tell each open follow-up's owner on its due date, and the broker once it is overdue."""
    today = today or date.today()
    base = (select(IntroductionTask).join(Introduction)
            .where(IntroductionTask.done_at.is_(None), IntroductionTask.due_on <= today,
                   Introduction.stage.notin_(("declined", "expired")))
            .options(selectinload(IntroductionTask.introduction), selectinload(IntroductionTask.owner)))
    due = list(db.session.scalars(base.where(IntroductionTask.owner_id.isnot(None),
                                             _not_told("task:", ":due"))))
    told = 0
    for task in due:
        intro = task.introduction
        told += len(notifications.notify([task.owner_id], "followup_due", "followup_due",
                           dict(notifications.introduction_params(intro), title=task.title, due=task.due_on.isoformat()),
                           notifications.introduction_link(intro) + "#follow-ups", dedupe_key=f"task:{task.id}:due"))
    late = list(db.session.scalars(base.where(IntroductionTask.due_on < today, Introduction.broker_id.isnot(None),
                                              _not_told("task:", ":overdue"))))
    for task in late:
        intro = task.introduction
        if intro.broker_id == task.owner_id:
            continue
        told += len(notifications.notify([intro.broker_id], "followup_due", "followup_overdue",
                           dict(notifications.introduction_params(intro), title=task.title, due=task.due_on.isoformat(),
                                owner=task.owner.display_name if task.owner else ""),
                           notifications.introduction_link(intro) + "#follow-ups", dedupe_key=f"task:{task.id}:overdue"))
    db.session.flush()
    return {"followups_notified": told}


# --- follow-up ratings --------------------------------------------------------------------------------

def add_months(moment: datetime, months: int) -> datetime:
    year, month0 = divmod(moment.month - 1 + months, 12)
    year += moment.year
    day = min(moment.day, calendar.monthrange(year, month0 + 1)[1])
    return moment.replace(year=year, month=month0 + 1, day=day)


def request_ratings(rating_months: int, now: datetime | None = None) -> dict:
    """Some months after signature or loss, ask each side what has become of the introduction."""
    now = now or _now()
    cutoff = add_months(now, -rating_months)
    asked = select(FollowupRating.id).where(FollowupRating.introduction_id == Introduction.id)
    intros = list(db.session.scalars(select(Introduction).where(
        Introduction.stage.in_(("signed", "lost")), Introduction.stage_changed_at <= cutoff, ~asked.exists())
        .options(selectinload(Introduction.need), selectinload(Introduction.offer))))
    created = 0
    for intro in intros:
        for side in ("need", "offer"):
            org_id = getattr(intro, f"{side}_organization_id")
            rating = FollowupRating(introduction_id=intro.id, organization_id=org_id, side=side,
                                    outcome=intro.stage, requested_at=now)
            db.session.add(rating)
            db.session.flush()
            created += 1
            notifications.notify(notifications.members_of(org_id), "rating_request", "rating_request",
                   dict(notifications.introduction_params(intro), outcome={"label": "stage", "code": intro.stage}),
                   path_for("notifications.rating", rating_id=rating.id), dedupe_key=f"rating:{rating.id}")
    db.session.flush()
    return {"ratings_requested": created}


def can_see_rating(user, rating: FollowupRating) -> bool:
    if _uid(user) is None:
        return False
    return (access.is_staff(user) or access.is_member_of(user, rating.organization_id)
            or rating.introduction.broker_id == user.id)


def get_rating(user, rating_id: int) -> FollowupRating:
    rating = db.session.get(FollowupRating, rating_id)
    if rating is None or not can_see_rating(user, rating):
        raise NotFound(_l("This rating request does not exist or is not visible to you."))
    return rating


def can_answer_rating(user, rating: FollowupRating) -> bool:
    return _uid(user) is not None and access.is_member_of(user, rating.organization_id)


def answer_rating(user, rating: FollowupRating, answer: str, comment: str = "") -> FollowupRating:
    """A member of the side answers (and may correct the answer later)."""
    if not can_see_rating(user, rating):
        raise NotFound(_l("This rating request does not exist or is not visible to you."))
    if not can_answer_rating(user, rating):
        raise PermissionDenied(_l("Only members of this side answer its rating request."))
    if answer not in RATING_ANSWERS:
        raise ValidationFailed(_l("Choose one of the answers."), field_errors={"answer": _l("Choose one.")})
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise ValidationFailed(_l("At most %(n)d characters.", n=2000), field_errors={"comment": _l("Too long.")})
    rating.answer, rating.comment = answer, comment
    rating.answered_by_id, rating.answered_at = user.id, _now()
    db.session.flush()
    return rating


def ratings_for(user) -> list[FollowupRating]:
    """Rating requests of the user's organisations, their introductions as broker, or all for operators."""
    if _uid(user) is None:
        return []
    query = (select(FollowupRating).join(Introduction)
             .options(selectinload(FollowupRating.introduction).selectinload(Introduction.need),
                      selectinload(FollowupRating.introduction).selectinload(Introduction.offer))
             .order_by(FollowupRating.answered_at.isnot(None), FollowupRating.requested_at.desc(),
                       FollowupRating.id.desc()).limit(500))
    if not access.is_staff(user):
        clauses = [Introduction.broker_id == user.id]
        if user.org_ids:
            clauses.append(FollowupRating.organization_id.in_(user.org_ids))
        query = query.where(or_(*clauses))
    return list(db.session.scalars(query))

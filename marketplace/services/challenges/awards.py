"""Deciding a challenge: the shortlist, the award ("揭榜") and the delivery milestones.

The challenger shortlists proposals and may ask their solvers for more (``services.challenges.requests``),
then awards one or several. Each award opens an ``Introduction`` (source ``challenge``) between the challenger
and the proposal's lead organisation, already accepted by both (the challenger by awarding, the solver by
proposing), so the deal pipeline and the conversation start at once; and it creates the milestones from the
proposal's plan (else the challenge's), each due so many months after the award. Every other proposal is
not selected and its solvers get the challenger's feedback. Solvers deliver milestones, the challenger accepts
them; the challenge is delivered when every milestone of every award is accepted.
"""
from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Introduction
from marketplace.models.challenges import Challenge, ChallengeAward, ChallengeMilestone, ChallengeProposal
from marketplace.services import access, audit, brokering, docking, locks, notifications
from marketplace.services.challenges import evaluation
from marketplace.services.cleaning import parse_id, plain_text
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.services.notifications import bilingual, members_of

DECIDABLE = ("submitted", "shortlisted")  # proposals that may still be shortlisted or awarded
FEEDBACK_LIMIT = 2000
INTRODUCTION_PURPOSE = "co_development"
PIPELINE_EXPIRY_DAYS = 30  # an accepted introduction does not expire; the column still wants a date
DEFAULT_MILESTONE_MONTHS = 3


def _now() -> datetime:
    return datetime.now(timezone.utc)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _params(challenge: Challenge, proposal: ChallengeProposal | None = None, **extra) -> dict:
    params = {"title": bilingual(challenge, "title"), "org": bilingual(challenge.organization, "name")}
    if proposal is not None:
        params["proposal"] = proposal.title
    params.update(extra)
    return params


def solver_members(proposal: ChallengeProposal) -> set[int]:
    """Members of the proposal's lead organisation and of its consortium."""
    return members_of(proposal.lead_organization_id, *[o.id for o in proposal.members])


def _clean_feedback(value, *, required: bool, field: str = "feedback") -> str:
    text = plain_text(value)
    if required and not text:
        raise ValidationFailed(_l("Write a few words of feedback for the solvers."),
                               field_errors={field: _l("This field is required.")})
    if len(text) > FEEDBACK_LIMIT:
        raise ValidationFailed(_l("At most %(n)d characters.", n=FEEDBACK_LIMIT), field_errors={field: _l("Too long.")})
    return text


def _decidable(user, challenge: Challenge) -> Challenge:
    evaluation.require_challenger(user, challenge)
    challenge = locks.lock_instance(challenge)
    if challenge.status != "in_evaluation":
        raise Conflict(_l("Proposals are decided during the evaluation, before the award."))
    return challenge


def _proposal_of(challenge: Challenge, proposal_id) -> ChallengeProposal:
    proposal = locks.lock(ChallengeProposal, parse_id(proposal_id) or 0)
    if proposal is None or proposal.challenge_id != challenge.id or proposal.status not in evaluation.EVALUATED_STATUSES:
        raise NotFound(_l("This proposal does not exist."))
    return proposal


def shortlist(user, challenge: Challenge, proposal_id, note: str = "") -> ChallengeProposal:
    """Put a submitted proposal on the shortlist and tell its solvers."""
    challenge = _decidable(user, challenge)
    proposal = _proposal_of(challenge, proposal_id)
    note = _clean_feedback(note, required=False)
    if proposal.status == "shortlisted":
        return proposal
    if proposal.status != "submitted":
        raise Conflict(_l("This proposal is already decided."))
    proposal.status = "shortlisted"
    db.session.flush()
    notifications.notify(solver_members(proposal), "proposal_feedback", "proposal_shortlisted",
                         _params(challenge, proposal, feedback=note), exclude=[user.id], about=challenge)
    return proposal


# --- the award -----------------------------------------------------------------------------------------------

def _open_introduction(user, challenge: Challenge, proposal: ChallengeProposal, now: datetime) -> Introduction:
    """The award's introduction, accepted by both sides: the challenger awarded, the solver proposed."""
    existing = docking.live_request(challenge.organization_id, proposal.lead_organization_id, None,
                                    challenge.need_id)
    if existing is not None and existing.stage != "proposed":
        return existing  # already talking about this need: the award joins that deal
    message = _l("Award of the challenge \"%(title)s\" for the proposal \"%(proposal)s\".",
                 title=challenge.title_zh or challenge.title_en, proposal=proposal.title)
    intro = Introduction(need_id=challenge.need_id, offer_id=None, need_organization_id=challenge.organization_id,
                         offer_organization_id=proposal.lead_organization_id, source="challenge",
                         requested_by_id=user.id, requester_side="need", purpose=INTRODUCTION_PURPOSE,
                         message=str(message), stage="accepted", stage_changed_at=now,
                         expires_at=now + timedelta(days=PIPELINE_EXPIRY_DAYS),
                         need_response="accepted", need_responded_by_id=user.id, need_responded_at=now,
                         offer_response="accepted", offer_responded_by_id=proposal.created_by_id,
                         offer_responded_at=proposal.submitted_at or now)
    db.session.add(intro)
    db.session.flush()
    brokering.record(intro, user, "requested", to_stage="proposed", reason=intro.message, side="need")
    brokering.record(intro, user, "stage", from_stage="proposed", to_stage="accepted", reason=intro.message)
    audit.record(db.session, actor_id=user.id, action="docking", object_type="introduction", object_id=intro.id,
                 organization_id=challenge.organization_id, summary=f"challenge {challenge.id} award",
                 details={"challenge_id": challenge.id, "proposal_id": proposal.id})
    brokering.changed(intro)
    return intro


def _milestone_plan(challenge: Challenge, proposal: ChallengeProposal) -> list[tuple[str, int]]:
    """(title, months after the award) from the proposal's plan, else the challenge's, else one delivery."""
    for plan in (proposal.milestones, challenge.milestone_plan):
        steps = []
        for step in plan or []:
            if not isinstance(step, dict):
                continue
            title = plain_text(step.get("title"))[:300]
            months = parse_id(step.get("months"))
            if title:
                steps.append((title, min(months if months else DEFAULT_MILESTONE_MONTHS, 120)))
        if steps:
            return steps
    return [(str(_l("Delivery")), DEFAULT_MILESTONE_MONTHS)]


def _amount(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount >= Decimal("1e14"):
        raise ValidationFailed(_l("Enter the award as an amount in RMB."),
                               field_errors={"amount": _l("Enter a number, e.g. 500000.")})
    return amount


def award(user, challenge: Challenge, proposal_ids, *, feedback: str, amount=None,
          now: datetime | None = None) -> list[ChallengeAward]:
    """Award one or several proposals: introductions and milestones for them, feedback for all the others."""
    challenge = _decidable(user, challenge)
    chosen_ids = sorted({pid for pid in (parse_id(p) for p in proposal_ids or []) if pid is not None})
    if not chosen_ids:
        raise ValidationFailed(_l("Choose at least one proposal to award."),
                               field_errors={"proposal_ids": _l("Choose at least one.")})
    feedback = _clean_feedback(feedback, required=True)
    amount = _amount(amount)
    chosen = [_proposal_of(challenge, pid) for pid in chosen_ids]
    if any(p.status not in DECIDABLE for p in chosen):
        raise Conflict(_l("Only submitted or shortlisted proposals can be awarded."))
    now = now or _now()
    awards = []
    for proposal in chosen:
        intro = _open_introduction(user, challenge, proposal, now)
        row = ChallengeAward(challenge_id=challenge.id, proposal_id=proposal.id, introduction_id=intro.id,
                             amount_rmb=amount, awarded_by_id=user.id, awarded_at=now)
        db.session.add(row)
        db.session.flush()
        for position, (title, months) in enumerate(_milestone_plan(challenge, proposal), start=1):
            db.session.add(ChallengeMilestone(challenge_id=challenge.id, award_id=row.id, position=position,
                                              title=title, due_on=add_months(now.date(), months), status="due"))
        proposal.status, proposal.decided_at = "awarded", now
        awards.append(row)
        notifications.notify(solver_members(proposal), "challenge_awarded", "challenge_award_won",
                             _params(challenge, proposal), notifications.introduction_link(intro), exclude=[user.id],
                             about=intro)
    for proposal in evaluation.evaluated_proposals(challenge):
        if proposal.status in DECIDABLE:
            proposal = locks.lock_instance(proposal)
            proposal.status, proposal.decided_at, proposal.feedback = "not_selected", now, feedback
            notifications.notify(solver_members(proposal), "proposal_feedback", "proposal_not_selected",
                                 _params(challenge, proposal, feedback=feedback), exclude=[user.id], about=challenge)
    challenge.status, challenge.awarded_at = "awarded", now
    db.session.flush()
    winners = ", ".join(p.lead_organization.name_zh or p.lead_organization.name_en for p in chosen)
    panel_ids = {seat.user_id for seat in evaluation.panel(challenge)}
    notifications.notify(panel_ids | members_of(challenge.organization_id), "challenge_awarded",
                         "challenge_award_made",
                         _params(challenge, chosen[0], org={"zh": winners, "en": winners}), exclude=[user.id],
                         about=challenge)
    return awards


# --- milestones ------------------------------------------------------------------------------------------------

def award_of(milestone: ChallengeMilestone) -> ChallengeAward | None:
    return db.session.get(ChallengeAward, milestone.award_id) if milestone.award_id else None


def is_solver_of(user, milestone: ChallengeMilestone) -> bool:
    """Members of the awarded proposal's lead organisation deliver its milestones."""
    row = award_of(milestone)
    return row is not None and access.is_member_of(user, row.proposal.lead_organization_id)


def get_milestone(user, milestone_id) -> ChallengeMilestone:
    """A milestone its challenger, its solver or an operator may see (404 for anybody else)."""
    milestone = db.session.get(ChallengeMilestone, parse_id(milestone_id) or 0)
    if milestone is None:
        raise NotFound(_l("This milestone does not exist."))
    challenge = db.session.get(Challenge, milestone.challenge_id)
    if not getattr(user, "is_authenticated", False) or not (
            evaluation.is_challenger(user, challenge) or is_solver_of(user, milestone)):
        raise NotFound(_l("This milestone does not exist."))
    return milestone


def get_tracked_challenge(user, challenge_id) -> Challenge:
    """A challenge whose milestones ``user`` may follow: the challenger, its panel, operators and the awarded
    solvers (404 for anybody else)."""
    challenge = evaluation.challenge_by_id(challenge_id)
    if challenge is None or not getattr(user, "is_authenticated", False):
        raise NotFound(_l("This challenge does not exist."))
    if evaluation.may_see_evaluation(user, challenge):
        return challenge
    if any(access.is_member_of(user, row.proposal.lead_organization_id) for row in awards_of(challenge)):
        return challenge
    raise NotFound(_l("This challenge does not exist."))


def deliver(user, milestone: ChallengeMilestone, note: str = "", *, now: datetime | None = None) -> ChallengeMilestone:
    """The solver reports a milestone delivered; the challenger is asked to accept it."""
    if not is_solver_of(user, milestone):
        raise PermissionDenied(_l("Only the awarded solver reports a milestone delivered."))
    milestone = locks.lock_instance(milestone)
    if milestone.status == "delivered":
        return milestone
    if milestone.status != "due":
        raise Conflict(_l("This milestone was already accepted."))
    note = _clean_feedback(note, required=False, field="note")
    milestone.status, milestone.delivered_at, milestone.note = "delivered", now or _now(), note
    db.session.flush()
    challenge = db.session.get(Challenge, milestone.challenge_id)
    solver = award_of(milestone).proposal.lead_organization
    notifications.notify(members_of(challenge.organization_id), "challenge_awarded", "challenge_milestone_delivered",
                         dict(_params(challenge), milestone=milestone.title, org=bilingual(solver, "name")),
                         exclude=[user.id], about=challenge)
    return milestone


def accept(user, milestone: ChallengeMilestone, *, now: datetime | None = None) -> ChallengeMilestone:
    """The challenger accepts a delivered milestone; the last one accepted makes the challenge delivered."""
    challenge = db.session.get(Challenge, milestone.challenge_id)
    evaluation.require_challenger(user, challenge)
    challenge = locks.lock_instance(challenge)
    milestone = locks.lock_instance(milestone)
    if milestone.status == "accepted":
        return milestone
    if milestone.status != "delivered":
        raise Conflict(_l("A milestone is accepted once the solver has delivered it."))
    now = now or _now()
    milestone.status, milestone.accepted_at = "accepted", now
    db.session.flush()
    open_left = db.session.scalar(select(ChallengeMilestone.id).where(
        ChallengeMilestone.challenge_id == challenge.id, ChallengeMilestone.status != "accepted").limit(1))
    if open_left is None and challenge.status == "awarded":
        challenge.status, challenge.delivered_at = "delivered", now
        db.session.flush()
    return milestone


def milestones(challenge: Challenge) -> list[ChallengeMilestone]:
    """The challenge's milestones, by award and position."""
    return list(db.session.scalars(select(ChallengeMilestone).where(ChallengeMilestone.challenge_id == challenge.id)
                                   .order_by(ChallengeMilestone.award_id, ChallengeMilestone.position)))


def awards_of(challenge: Challenge) -> list[ChallengeAward]:
    """The challenge's awards, in the order they were made."""
    return list(db.session.scalars(select(ChallengeAward).where(ChallengeAward.challenge_id == challenge.id)
                                   .order_by(ChallengeAward.id)))

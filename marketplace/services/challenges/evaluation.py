"""Evaluation of a challenge's proposals: the panel, conflict declarations, scores, the ranking, the shortlist.

The challenger (members of its organisation; operators too) names the panel: its own staff or park experts
(technology managers, operators). Each panel member declares, per proposal, whether they have a conflict of
interest; a declared conflict forbids scoring that proposal (checked here, whatever the entry point), and no
proposal is scored before its declaration. Scores are 0-10 per criterion with a comment, sent for all
criteria of a proposal at once; once sent they are locked: sending the same scores again changes nothing,
different ones are refused. The ranking is the weighted mean over the criteria of each evaluator's score,
averaged over the evaluators who scored, with the spread (lowest, highest, standard deviation) shown.

Solvers see none of it: every reader here is the challenger's member, a panel member or an operator.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Membership, User, UserRole
from marketplace.models.challenges import (PANEL_ROLES, SCORE_MAX, SCORE_MIN, Challenge, ChallengeConflict,
                                           ChallengePanelMember, ChallengeProposal, ChallengeScore)
from marketplace.links import path_for
from marketplace.services import access, locks, notifications
from marketplace.services.cleaning import parse_id, plain_text
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.services.notifications import bilingual
from marketplace.visibility import BROKER_ROLES

EVALUATED_STATUSES = ("submitted", "shortlisted", "awarded", "not_selected")  # proposals the panel reads
EVALUATION_STATUSES = ("closed", "in_evaluation")  # challenge states in which the panel works
COMMENT_LIMIT = 2000


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


# --- who may do what ------------------------------------------------------------------------------------

def is_challenger(user, challenge: Challenge) -> bool:
    """Members of the challenging organisation, and operators, run the evaluation."""
    return access.is_member_of(user, challenge.organization_id) or access.is_staff(user)


def require_challenger(user, challenge: Challenge | None) -> Challenge:
    """The challenge, when ``user`` runs its evaluation (404 for a missing one, 403 otherwise)."""
    if challenge is None:
        raise NotFound(_l("This challenge does not exist."))
    if not getattr(user, "is_authenticated", False) or not is_challenger(user, challenge):
        raise PermissionDenied(_l("Only the challenger and the platform's operators manage the evaluation."))
    return challenge


def panel_member(user, challenge: Challenge) -> ChallengePanelMember | None:
    """The user's seat on the challenge's panel, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(ChallengePanelMember).where(
        ChallengePanelMember.challenge_id == challenge.id, ChallengePanelMember.user_id == user.id))


def may_see_evaluation(user, challenge: Challenge) -> bool:
    """The challenger, its operators and the panel see the evaluation pages; solvers never."""
    return getattr(user, "is_authenticated", False) and (
        is_challenger(user, challenge) or panel_member(user, challenge) is not None)


def challenge_by_id(challenge_id) -> Challenge | None:
    """The challenge with this id, if any (callers check who may see it)."""
    return db.session.get(Challenge, parse_id(challenge_id) or 0)


def proposal_by_id(proposal_id) -> ChallengeProposal | None:
    """The proposal with this id, if any (callers check who may see it)."""
    return db.session.get(ChallengeProposal, parse_id(proposal_id) or 0)


def get_challenge(user, challenge_id) -> Challenge:
    """A challenge whose evaluation ``user`` may see (404 otherwise, so solvers learn nothing)."""
    challenge = db.session.get(Challenge, parse_id(challenge_id) or 0)
    if challenge is None or not may_see_evaluation(user, challenge):
        raise NotFound(_l("This challenge does not exist."))
    return challenge


def get_proposal(challenge: Challenge, proposal_id) -> ChallengeProposal:
    """A proposal of ``challenge`` the panel reads (submitted or decided), else 404."""
    proposal = db.session.get(ChallengeProposal, parse_id(proposal_id) or 0)
    if proposal is None or proposal.challenge_id != challenge.id or proposal.status not in EVALUATED_STATUSES:
        raise NotFound(_l("This proposal does not exist."))
    return proposal


def evaluated_proposals(challenge: Challenge) -> list[ChallengeProposal]:
    """The proposals the panel reads, in the order they were submitted."""
    return list(db.session.scalars(select(ChallengeProposal).where(
        ChallengeProposal.challenge_id == challenge.id, ChallengeProposal.status.in_(EVALUATED_STATUSES))
        .order_by(ChallengeProposal.submitted_at, ChallengeProposal.id)))


# --- the panel --------------------------------------------------------------------------------------------

def panel_candidates(challenge: Challenge) -> list[User]:
    """Who may sit on the panel: the challenger's members and the park's experts (technology managers,
    operators)."""
    staff = select(Membership.user_id).where(Membership.organization_id == challenge.organization_id)
    experts = select(UserRole.user_id).where(UserRole.role.in_(BROKER_ROLES))
    return list(db.session.scalars(select(User).where(User.id.in_(staff.union(experts)), User.active.is_(True))
                                   .order_by(User.id)))


def panel(challenge: Challenge) -> list[ChallengePanelMember]:
    """The panel, in the order it was named."""
    return list(db.session.scalars(select(ChallengePanelMember).where(
        ChallengePanelMember.challenge_id == challenge.id).order_by(ChallengePanelMember.id)))


def add_panel_member(user, challenge: Challenge, user_id, role: str = "evaluator") -> ChallengePanelMember:
    """Name someone to the panel (before the award)."""
    require_challenger(user, challenge)
    challenge = locks.lock_instance(challenge)
    if challenge.status in ("awarded", "delivered", "withdrawn", "rejected"):
        raise Conflict(_l("The panel can no longer change: the challenge is decided."))
    if role not in PANEL_ROLES:
        raise ValidationFailed(_l("Choose a role on the panel."), field_errors={"role": _l("Choose one.")})
    chosen = parse_id(user_id)
    if chosen is None or chosen not in {u.id for u in panel_candidates(challenge)}:
        raise ValidationFailed(_l("Choose one of the challenger's staff or a park expert."),
                               field_errors={"user_id": _l("Choose someone from the list.")})
    if db.session.scalar(select(ChallengePanelMember.id).where(
            ChallengePanelMember.challenge_id == challenge.id, ChallengePanelMember.user_id == chosen)):
        raise Conflict(_l("This person is already on the panel."))
    seat = ChallengePanelMember(challenge_id=challenge.id, user_id=chosen, role=role, added_by_id=user.id)
    db.session.add(seat)
    db.session.flush()
    notifications.notify([chosen], "challenge_panel", "challenge_panel_named",
                         {"title": bilingual(challenge, "title"), "org": bilingual(challenge.organization, "name")},
                         path_for("challenge_eval.overview", challenge_id=challenge.id), exclude=[user.id])
    return seat


def remove_panel_member(user, challenge: Challenge, seat_id) -> None:
    """Take someone off the panel, as long as they scored nothing."""
    require_challenger(user, challenge)
    challenge = locks.lock_instance(challenge)
    seat = db.session.get(ChallengePanelMember, parse_id(seat_id) or 0)
    if seat is None or seat.challenge_id != challenge.id:
        raise NotFound(_l("This person is not on the panel."))
    if db.session.scalar(select(ChallengeScore.id).where(ChallengeScore.panel_member_id == seat.id).limit(1)):
        raise Conflict(_l("This evaluator has already scored proposals and stays on the panel."))
    db.session.delete(seat)
    db.session.flush()


def start_evaluation(user, challenge: Challenge, *, now: datetime | None = None) -> Challenge:
    """Open the evaluation once the deadline has passed (the challenge is closed, or published and past it)."""
    require_challenger(user, challenge)
    challenge = locks.lock_instance(challenge)
    now = now or _now()
    past_deadline = _aware(challenge.deadline) is not None and _aware(challenge.deadline) <= now
    if challenge.status == "in_evaluation":
        return challenge
    if challenge.status not in ("closed", "published") or not past_deadline:
        raise Conflict(_l("The evaluation starts after the submission deadline."))
    if not panel(challenge):
        raise ValidationFailed(_l("Name at least one evaluator first."))
    if challenge.status == "published":
        challenge.closed_at = challenge.closed_at or now
    challenge.status = "in_evaluation"
    challenge.evaluation_started_at = now
    db.session.flush()
    return challenge


# --- conflicts and scores --------------------------------------------------------------------------------

def _own_seat(user, challenge: Challenge) -> ChallengePanelMember:
    seat = panel_member(user, challenge)
    if seat is None:
        raise PermissionDenied(_l("Only members of the evaluation panel do this."))
    if challenge.status not in EVALUATION_STATUSES:
        raise Conflict(_l("Proposals are evaluated between the deadline and the award."))
    return seat


def declaration(seat: ChallengePanelMember, proposal: ChallengeProposal) -> ChallengeConflict | None:
    """The seat's declaration about the proposal, if made."""
    return db.session.scalar(select(ChallengeConflict).where(
        ChallengeConflict.panel_member_id == seat.id, ChallengeConflict.proposal_id == proposal.id))


def declare(user, challenge: Challenge, proposal: ChallengeProposal, has_conflict, note: str = "") -> ChallengeConflict:
    """Declare whether one has a conflict of interest with a proposal. A conflict, once declared, stays; declaring
    one after scoring withdraws the scores of that proposal."""
    seat = locks.lock_instance(_own_seat(user, challenge))  # one declaration or scoring at a time per seat
    if proposal.challenge_id != challenge.id or proposal.status not in EVALUATED_STATUSES:
        raise NotFound(_l("This proposal does not exist."))
    if has_conflict not in (True, False):
        raise ValidationFailed(_l("Say whether you have a conflict of interest."),
                               field_errors={"has_conflict": _l("Choose yes or no.")})
    note = plain_text(note)
    if len(note) > COMMENT_LIMIT:
        raise ValidationFailed(_l("At most %(n)d characters.", n=COMMENT_LIMIT), field_errors={"note": _l("Too long.")})
    if has_conflict and not note:
        raise ValidationFailed(_l("Say briefly what the conflict is."),
                               field_errors={"note": _l("This field is required.")})
    existing = declaration(seat, proposal)
    if existing is not None:
        if existing.has_conflict == has_conflict:
            return existing  # the same declaration again (a second click) changes nothing
        if existing.has_conflict:
            raise Conflict(_l("A declared conflict of interest cannot be withdrawn."))
    if has_conflict:
        for row in db.session.scalars(select(ChallengeScore).where(
                ChallengeScore.panel_member_id == seat.id, ChallengeScore.proposal_id == proposal.id)):
            db.session.delete(row)
    if existing is None:
        existing = ChallengeConflict(panel_member_id=seat.id, proposal_id=proposal.id)
        db.session.add(existing)
    existing.has_conflict, existing.note, existing.declared_at = has_conflict, note, _now()
    db.session.flush()
    return existing


def _clean_scores(challenge: Challenge, entries: dict) -> dict[int, tuple[int, str]]:
    """``{criterion_id: (score, comment)}`` from the form's ``{criterion_id: (score text, comment)}``."""
    cleaned, errors = {}, {}
    for criterion in challenge.criteria:
        raw_score, raw_comment = entries.get(criterion.id, (None, ""))
        try:
            value = int(str(raw_score).strip())
        except (TypeError, ValueError):
            value = None
        if value is None or not SCORE_MIN <= value <= SCORE_MAX:
            errors[f"score_{criterion.id}"] = _l("A whole number from %(low)d to %(high)d.", low=SCORE_MIN,
                                                 high=SCORE_MAX)
            continue
        comment = plain_text(raw_comment)
        if len(comment) > COMMENT_LIMIT:
            errors[f"comment_{criterion.id}"] = _l("At most %(n)d characters.", n=COMMENT_LIMIT)
            continue
        cleaned[criterion.id] = (value, comment)
    if errors:
        raise ValidationFailed(_l("Score every criterion from %(low)d to %(high)d.", low=SCORE_MIN, high=SCORE_MAX),
                               field_errors=errors)
    return cleaned


def own_scores(seat: ChallengePanelMember, proposal: ChallengeProposal) -> dict[int, ChallengeScore]:
    """The seat's scores of a proposal by criterion id."""
    return {s.criterion_id: s for s in db.session.scalars(select(ChallengeScore).where(
        ChallengeScore.panel_member_id == seat.id, ChallengeScore.proposal_id == proposal.id))}


def score(user, challenge: Challenge, proposal: ChallengeProposal, entries: dict) -> list[ChallengeScore]:
    """Score a proposal on every criterion at once (``entries``: ``{criterion_id: (score, comment)}``).

    Refused for a proposal the evaluator declared a conflict with or has not declared on yet; sent scores are
    locked (the same scores again change nothing, different ones are refused)."""
    seat = locks.lock_instance(_own_seat(user, challenge))
    if proposal.challenge_id != challenge.id or proposal.status not in EVALUATED_STATUSES:
        raise NotFound(_l("This proposal does not exist."))
    declared = declaration(seat, proposal)
    if declared is None:
        raise PermissionDenied(_l("Declare first whether you have a conflict of interest with this proposal."))
    if declared.has_conflict:
        raise PermissionDenied(_l("You declared a conflict of interest with this proposal and cannot score it."))
    if not challenge.criteria:
        raise ValidationFailed(_l("This challenge has no evaluation criteria."))
    entries = {parse_id(k): v for k, v in entries.items()}
    if set(entries) - {c.id for c in challenge.criteria}:
        raise ValidationFailed(_l("Score only this challenge's criteria."))
    cleaned = _clean_scores(challenge, entries)
    existing = own_scores(seat, proposal)
    if existing:
        if {cid: (s.score, s.comment) for cid, s in existing.items()} == cleaned:
            return list(existing.values())  # sent twice: the first one stands
        raise Conflict(_l("Your scores for this proposal were already sent and are locked."))
    rows = [ChallengeScore(panel_member_id=seat.id, proposal_id=proposal.id, criterion_id=cid, score=value,
                           comment=comment) for cid, (value, comment) in cleaned.items()]
    db.session.add_all(rows)
    db.session.flush()
    return rows


# --- the ranking -------------------------------------------------------------------------------------------

@dataclass
class ProposalResult:
    """A proposal's aggregate: weighted mean (0-10) over the evaluators who scored it, the spread, the rank."""

    proposal: ChallengeProposal
    evaluator_totals: list[float] = field(default_factory=list)
    criterion_means: dict[int, float] = field(default_factory=dict)
    conflicts: int = 0
    rank: int | None = None

    @property
    def mean(self) -> float | None:
        return round(statistics.fmean(self.evaluator_totals), 2) if self.evaluator_totals else None

    @property
    def low(self) -> float | None:
        return round(min(self.evaluator_totals), 2) if self.evaluator_totals else None

    @property
    def high(self) -> float | None:
        return round(max(self.evaluator_totals), 2) if self.evaluator_totals else None

    @property
    def spread(self) -> float | None:
        """Population standard deviation of the evaluators' totals (0 with one evaluator)."""
        return round(statistics.pstdev(self.evaluator_totals), 2) if self.evaluator_totals else None

    @property
    def scored_by(self) -> int:
        return len(self.evaluator_totals)


def weighted_total(scores: dict[int, int], weights: dict[int, int]) -> float | None:
    """One evaluator's weighted mean over the criteria (None unless every criterion is scored)."""
    if not weights or set(scores) != set(weights):
        return None
    total_weight = sum(weights.values())
    return sum(scores[cid] * weight for cid, weight in weights.items()) / total_weight


def results(challenge: Challenge) -> list[ProposalResult]:
    """Every evaluated proposal with its aggregate, best first (unscored ones last, unranked)."""
    proposals = evaluated_proposals(challenge)
    weights = {c.id: c.weight for c in challenge.criteria}
    by_proposal = {p.id: ProposalResult(p) for p in proposals}
    per_seat: dict[tuple[int, int], dict[int, int]] = {}
    for row in db.session.scalars(select(ChallengeScore).where(ChallengeScore.proposal_id.in_(by_proposal))):
        per_seat.setdefault((row.proposal_id, row.panel_member_id), {})[row.criterion_id] = row.score
    for (proposal_id, _seat), scores in per_seat.items():
        total = weighted_total(scores, weights)
        if total is not None:
            by_proposal[proposal_id].evaluator_totals.append(total)
    for result in by_proposal.values():
        columns = [scores for (pid, _), scores in per_seat.items() if pid == result.proposal.id]
        for cid in weights:
            values = [s[cid] for s in columns if cid in s]
            if values:
                result.criterion_means[cid] = round(statistics.fmean(values), 2)
    for proposal_id in db.session.scalars(select(ChallengeConflict.proposal_id).where(
            ChallengeConflict.proposal_id.in_(by_proposal), ChallengeConflict.has_conflict.is_(True))):
        by_proposal[proposal_id].conflicts += 1
    ordered = sorted(by_proposal.values(), key=lambda r: (r.mean is None, -(r.mean or 0), -(r.high or 0),
                                                          r.proposal.id))
    rank = 0
    for position, result in enumerate(ordered, start=1):
        if result.mean is not None:
            rank = position
            result.rank = rank
    return ordered


def declarations_and_scores(challenge: Challenge, seat_ids: set[int] | None = None):
    """The declarations and scores of the challenge's panel (only those of ``seat_ids`` when given)."""
    seats = [s.id for s in panel(challenge) if seat_ids is None or s.id in seat_ids]
    declarations = list(db.session.scalars(select(ChallengeConflict).where(
        ChallengeConflict.panel_member_id.in_(seats)).order_by(ChallengeConflict.id)))
    scores = list(db.session.scalars(select(ChallengeScore).where(ChallengeScore.panel_member_id.in_(seats))
                                     .order_by(ChallengeScore.proposal_id, ChallengeScore.panel_member_id,
                                               ChallengeScore.criterion_id)))
    return declarations, scores


def seat_status(seat: ChallengePanelMember) -> dict[int, str]:
    """Per proposal id, where this panel member stands: ``conflict``, ``scored`` or ``declared``
    (proposals missing are still to be declared on)."""
    status = {pid: ("conflict" if conflict else "declared") for pid, conflict in db.session.execute(
        select(ChallengeConflict.proposal_id, ChallengeConflict.has_conflict)
        .where(ChallengeConflict.panel_member_id == seat.id))}
    for pid in db.session.scalars(select(ChallengeScore.proposal_id).where(
            ChallengeScore.panel_member_id == seat.id).distinct()):
        status[pid] = "scored"
    return status


def progress(challenge: Challenge) -> dict[int, dict]:
    """Per panel seat: how many proposals it declared on, scored, and declared a conflict with."""
    seats = {s.id: {"seat": s, "declared": 0, "conflicts": 0, "scored": 0} for s in panel(challenge)}
    for seat_id, has_conflict in db.session.execute(select(ChallengeConflict.panel_member_id,
                                                           ChallengeConflict.has_conflict)
                                                    .where(ChallengeConflict.panel_member_id.in_(seats))):
        seats[seat_id]["declared"] += 1
        seats[seat_id]["conflicts"] += int(bool(has_conflict))
    for seat_id, _proposal in db.session.execute(select(ChallengeScore.panel_member_id, ChallengeScore.proposal_id)
                                                 .where(ChallengeScore.panel_member_id.in_(seats)).distinct()):
        seats[seat_id]["scored"] += 1
    return seats

"""What the challenge services share: who may publish, who acts for the challenger, the clock and the deadline,
the registered solvers, and the parameters of challenge notifications."""
from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace import visibility
from marketplace.extensions import db
from marketplace.links import path_for
from marketplace.models import Challenge, ChallengeProposal, ChallengeQuestion, ChallengeSolver, SubParkStaff
from marketplace.services import access
from marketplace.services.brokering import aware
from marketplace.services.errors import Conflict, NotFound, PermissionDenied

# Organisations whose members publish challenges (sub-park staff and operators may too, whatever their own).
CHALLENGER_KINDS = ("hospital", "firm", "operator")
# Who may lead a proposal when the challenge names no kinds.
DEFAULT_ELIGIBLE_KINDS = ("lab", "university", "institute", "firm")
SOLVER_KINDS = ("lab", "university", "institute", "firm", "hospital")
EDITABLE_STATUSES = ("draft", "sent_back")
# Before the award the challenger may still withdraw the challenge.
WITHDRAWABLE_STATUSES = ("draft", "submitted", "sent_back", "published", "closed", "in_evaluation")
NOT_FOUND = _l("This challenge does not exist or is not published.")


def now() -> datetime:
    """The current instant (aware, UTC); deadlines are compared with it, never with local clock times."""
    return datetime.now(UTC)


def deadline_passed(challenge: Challenge, at: datetime | None = None) -> bool:
    """Has the submission deadline passed? Both instants are aware, so the challenge's zone cannot shift it."""
    return (at or now()) >= aware(challenge.deadline)


def accepts_submissions(challenge: Challenge, at: datetime | None = None) -> bool:
    """Published and before the deadline: questions, proposals and their changes are accepted."""
    return challenge.status == "published" and not deadline_passed(challenge, at)


def shown_status(challenge: Challenge, at: datetime | None = None) -> str:
    """The status people see: a published challenge past its deadline reads "closed" before the job closes it."""
    if challenge.status == "published" and deadline_passed(challenge, at):
        return "closed"
    return challenge.status


def require_open_for_submissions(challenge: Challenge) -> None:
    if challenge.status != "published":
        raise Conflict(_l("This challenge is not open for questions or proposals."))
    if deadline_passed(challenge):
        raise Conflict(_l("The submission deadline of this challenge has passed; nothing more can be sent."))


def sub_parks_of(user) -> set[str]:
    """The sub-parks the user serves as staff."""
    if getattr(user, "id", None) is None:
        return set()
    return set(db.session.scalars(select(SubParkStaff.sub_park).where(SubParkStaff.user_id == user.id)))


def may_publish_for(user, organization) -> bool:
    """Members of hospitals, firms and the operator publish challenges; sub-park staff and operators publish for
    any organisation they belong to."""
    if organization is None or not access.is_member_of(user, organization.id):
        return False
    return organization.kind in CHALLENGER_KINDS or access.is_staff(user) or bool(sub_parks_of(user))


def publishing_organizations(user) -> list:
    """The user's organisations they may publish challenges for."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [o for o in user.organizations if may_publish_for(user, o)]


def is_challenger(user, challenge: Challenge) -> bool:
    """A member of the challenge's organisation."""
    return getattr(user, "is_authenticated", False) and access.is_member_of(user, challenge.organization_id)


def may_manage(user, challenge: Challenge) -> bool:
    """The challenger's members and operators act on the challenge (answers, edits, withdrawal)."""
    return is_challenger(user, challenge) or access.is_staff(user)


def require_view(user, challenge: Challenge | None) -> Challenge:
    if challenge is None or not visibility.can_open(user, challenge):
        raise NotFound(NOT_FOUND)
    return challenge


def require_manage(user, challenge: Challenge | None) -> Challenge:
    challenge = require_view(user, challenge)
    if not may_manage(user, challenge):
        raise PermissionDenied(_l("Only the challenger's members may do this."))
    return challenge


def get_challenge(user, challenge_id: int) -> Challenge:
    """The challenge ``user`` may open, or NotFound."""
    return require_view(user, db.session.get(Challenge, challenge_id))


def eligible_kinds(challenge: Challenge) -> tuple[str, ...]:
    return tuple(challenge.eligible_kinds or DEFAULT_ELIGIBLE_KINDS)


# --- registered solvers ------------------------------------------------------------------------------------

def register_solver(user, challenge: Challenge, source: str) -> ChallengeSolver:
    """Record that ``user`` follows the challenge (once; the first source is kept). Only flushes."""
    found = db.session.scalar(select(ChallengeSolver).where(ChallengeSolver.challenge_id == challenge.id,
                                                            ChallengeSolver.user_id == user.id))
    if found is not None:
        return found
    orgs = sorted(user.org_ids)
    solver = ChallengeSolver(challenge_id=challenge.id, user_id=user.id, organization_id=orgs[0] if orgs else None,
                             source=source, created_at=now())
    # a second tab registering at the same instant: the unique key keeps one row, this one is dropped
    try:
        with db.session.begin_nested():
            db.session.add(solver)
    except IntegrityError:
        return db.session.scalar(select(ChallengeSolver).where(ChallengeSolver.challenge_id == challenge.id,
                                                               ChallengeSolver.user_id == user.id))
    return solver


def registered_solvers(challenge: Challenge) -> set[int]:
    """Everybody told of public clarifications: people who registered interest, asked a question, or whose
    organisation has a draft or submitted proposal (its members)."""
    from marketplace.services.notifications import members_of
    users = set(db.session.scalars(select(ChallengeSolver.user_id).where(ChallengeSolver.challenge_id == challenge.id)))
    users |= {u for u in db.session.scalars(select(ChallengeQuestion.asker_id).where(
        ChallengeQuestion.challenge_id == challenge.id)) if u}
    proposing = list(db.session.scalars(select(ChallengeProposal.lead_organization_id).where(
        ChallengeProposal.challenge_id == challenge.id, ChallengeProposal.status.in_(("draft", "submitted")))))
    return users | members_of(*proposing)


def follows(user, challenge: Challenge) -> bool:
    if getattr(user, "id", None) is None or not getattr(user, "is_authenticated", False):
        return False
    return db.session.scalar(select(ChallengeSolver.id).where(ChallengeSolver.challenge_id == challenge.id,
                                                              ChallengeSolver.user_id == user.id)) is not None


# --- notification parameters ---------------------------------------------------------------------------------

def title_params(challenge: Challenge) -> dict:
    return {"title": {"zh": challenge.title("zh"), "en": challenge.title("en")}}


def org_param(organization) -> dict:
    return {"zh": organization.name_zh, "en": organization.name_en or organization.name_zh}


def challenge_path(challenge: Challenge) -> str:
    return path_for("challenges.detail", challenge_id=challenge.id)

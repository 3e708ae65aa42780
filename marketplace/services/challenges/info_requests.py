"""The challenger asks a shortlisted proposal's solvers for more; they answer once.

Asked during the evaluation only, of shortlisted proposals only; the solvers are told (``proposal_feedback``,
``proposal_more_requested``) and answer on the request's page. The challenger, the panel and operators read
requests and answers; solvers read only those about their own proposal.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.links import path_for
from marketplace.models.challenge_requests import ChallengeInfoRequest
from marketplace.models.challenges import Challenge, ChallengeProposal
from marketplace.services import access, locks, notifications
from marketplace.services.challenges import evaluation
from marketplace.services.cleaning import parse_id, plain_text
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.services.notifications import bilingual, members_of

TEXT_LIMIT = 4000


def _clean(value, field: str) -> str:
    text = plain_text(value)
    if not text:
        raise ValidationFailed(_l("This field is required."), field_errors={field: _l("This field is required.")})
    if len(text) > TEXT_LIMIT:
        raise ValidationFailed(_l("At most %(n)d characters.", n=TEXT_LIMIT), field_errors={field: _l("Too long.")})
    return text


def is_solver(user, proposal: ChallengeProposal) -> bool:
    """Members of the proposal's lead organisation or of its consortium."""
    return any(access.is_member_of(user, org_id) for org_id in
               [proposal.lead_organization_id] + [o.id for o in proposal.members])


def ask(user, challenge: Challenge, proposal_id, text: str) -> ChallengeInfoRequest:
    """Ask a shortlisted proposal's solvers for more information, and tell them."""
    evaluation.require_challenger(user, challenge)
    challenge = locks.lock_instance(challenge)
    if challenge.status != "in_evaluation":
        raise Conflict(_l("Solvers are asked for more during the evaluation."))
    proposal = db.session.get(ChallengeProposal, parse_id(proposal_id) or 0)
    if proposal is None or proposal.challenge_id != challenge.id or proposal.status not in evaluation.EVALUATED_STATUSES:
        raise NotFound(_l("This proposal does not exist."))
    if proposal.status != "shortlisted":
        raise Conflict(_l("Shortlist the proposal before asking its solvers for more."))
    request = ChallengeInfoRequest(challenge_id=challenge.id, proposal_id=proposal.id, asked_by_id=user.id,
                                   text=_clean(text, "text"))
    db.session.add(request)
    db.session.flush()
    notifications.notify(members_of(proposal.lead_organization_id, *[o.id for o in proposal.members]),
                         "proposal_feedback", "proposal_more_requested",
                         {"title": bilingual(challenge, "title"), "proposal": proposal.title,
                          "request": request.text[:300]},
                         path_for("challenge_eval.info_request", request_id=request.id), exclude=[user.id],
                         about=challenge)
    return request


def get(user, request_id) -> ChallengeInfoRequest:
    """A request its solvers, the challenger, the panel or an operator may read (404 for anybody else)."""
    request = db.session.get(ChallengeInfoRequest, parse_id(request_id) or 0)
    if request is None or not getattr(user, "is_authenticated", False):
        raise NotFound(_l("This request does not exist."))
    challenge = db.session.get(Challenge, request.challenge_id)
    proposal = db.session.get(ChallengeProposal, request.proposal_id)
    if not (evaluation.may_see_evaluation(user, challenge) or is_solver(user, proposal)):
        raise NotFound(_l("This request does not exist."))
    return request


def answer(user, request: ChallengeInfoRequest, text: str, *, now: datetime | None = None) -> ChallengeInfoRequest:
    """The solvers answer a request once; the challenger is told."""
    proposal = db.session.get(ChallengeProposal, request.proposal_id)
    if not is_solver(user, proposal):
        raise PermissionDenied(_l("Only the proposal's solvers answer this request."))
    request = locks.lock_instance(request)
    text = _clean(text, "answer")
    if request.is_answered:
        if request.answer == text:
            return request
        raise Conflict(_l("This request was already answered."))
    request.answer, request.answered_by_id, request.answered_at = text, user.id, now or datetime.now(timezone.utc)
    db.session.flush()
    challenge = db.session.get(Challenge, request.challenge_id)
    notifications.notify(members_of(challenge.organization_id), "challenge_question", "challenge_question_asked",
                         {"title": bilingual(challenge, "title"), "org": bilingual(proposal.lead_organization, "name"),
                          "question": text[:300]},
                         path_for("challenge_eval.info_request", request_id=request.id), exclude=[user.id],
                         about=challenge)
    return request


def of_challenge(challenge: Challenge) -> list[ChallengeInfoRequest]:
    """Every request of the challenge, oldest first."""
    return list(db.session.scalars(select(ChallengeInfoRequest).where(ChallengeInfoRequest.challenge_id == challenge.id)
                                   .order_by(ChallengeInfoRequest.id)))


def of_proposal(proposal: ChallengeProposal) -> list[ChallengeInfoRequest]:
    """The requests about one proposal, oldest first."""
    return list(db.session.scalars(select(ChallengeInfoRequest).where(ChallengeInfoRequest.proposal_id == proposal.id)
                                   .order_by(ChallengeInfoRequest.id)))

"""/api/v1/challenges: open challenges (public fields; create and update for the challenger's members), their
questions, and proposals (owner-scoped: a solver reads and changes only its own organisation's)."""
from __future__ import annotations

from decimal import Decimal

from marketplace import vocabulary
from marketplace.api import auth
from marketplace.api.common import IF_MATCH_DOC, api_blueprint, page_envelope, send_etag, versioned_update
from marketplace.api.representations import organization_ref
from marketplace.api.schemas.challenges import (
    AnswerIn,
    ChallengeCreateIn,
    ChallengeDetailOut,
    ChallengeListArgs,
    ChallengePage,
    ChallengeUpdateIn,
    ProposalCreateIn,
    ProposalListOut,
    ProposalOut,
    ProposalWriteIn,
    QuestionIn,
    QuestionListOut,
    QuestionOut,
)
from marketplace.queries import challenges as challenges_q
from marketplace.queries.paging import api_per_page
from marketplace.services import confidentiality
from marketplace.services.challenges import common, proposals, publishing, questions
from marketplace.services.unit_of_work import unit_of_work

bp = api_blueprint("api_challenges", __name__, url_prefix="/api/v1/challenges",
                   description="Open challenges (揭榜挂帅): problems with an award, their questions and proposals.")

SUMMARY_FIELDS = ("id", "title_zh", "title_en", "summary_zh", "summary_en", "deadline", "timezone")
DETAIL_FIELDS = ("version", "problem_zh", "problem_en", "requirements_zh", "requirements_en", "ip_terms_zh",
                 "ip_terms_en", "award_note", "consortium_allowed", "milestone_plan", "clarification_number",
                 "has_confidential_part", "need_id", "published_at")


def _money(value):
    return float(value) if value is not None else None


def _decimal(value) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None


def challenge_summary(challenge) -> dict:
    body = {k: getattr(challenge, k) for k in SUMMARY_FIELDS}
    status = common.shown_status(challenge)
    body.update(status=status, status_label=vocabulary.label("challenge_status", status),
                organization=organization_ref(challenge.organization), award_min_rmb=_money(challenge.award_min_rmb),
                award_max_rmb=_money(challenge.award_max_rmb), accepts_submissions=common.accepts_submissions(challenge),
                field_codes=[f.code for f in challenge.fields])
    return body


def challenge_detail(challenge, user, *, details_shown: bool) -> dict:
    body = challenge_summary(challenge)
    body.update({k: getattr(challenge, k) for k in DETAIL_FIELDS})
    body["eligible_kinds"] = list(common.eligible_kinds(challenge))
    body["criteria"] = [{"id": k.id, "name_zh": k.name_zh, "name_en": k.name_en, "weight": k.weight}
                        for k in challenge.criteria]
    body["confidential_zh"] = challenge.confidential_zh if details_shown else None
    body["confidential_en"] = challenge.confidential_en if details_shown else None
    body["review_reason"] = challenge.review_reason if common.may_manage(user, challenge) else None
    return body


def question_body(question, user) -> dict:
    body = {k: getattr(question, k) for k in ("id", "text", "answer", "answer_visibility", "created_at",
                                              "answered_at")}
    body["asked_by_you"] = user is not None and question.asker_id == user.id
    return body


def proposal_body(proposal) -> dict:
    body = {k: getattr(proposal, k) for k in ("id", "challenge_id", "version", "status", "title", "approach", "team",
                                              "milestones", "feedback", "submitted_at")}
    body.update(status_label=vocabulary.label("proposal_status", proposal.status),
                lead_organization=organization_ref(proposal.lead_organization),
                members=[organization_ref(o) for o in proposal.members], budget_rmb=_money(proposal.budget_rmb))
    return body


def _challenge(user, challenge_id: int):
    return challenges_q.get_challenge(user, challenge_id)


@bp.route("/", methods=["GET"])
@bp.arguments(ChallengeListArgs, location="query", as_kwargs=True)
@bp.response(200, ChallengePage)
def list_challenges(page, per_page=None, status=None, field=None, kind=None, award_min=None, award_max=None):
    """Published challenges (open ones by deadline with `status=open`), filtered like the site's list."""
    user = auth.caller()
    found = challenges_q.list_challenges(user, status=status, field=field, kind=kind, award_min=_decimal(award_min),
                                         award_max=_decimal(award_max), page=page, per_page=api_per_page(per_page))
    return page_envelope(found, challenge_summary)


@bp.route("/", methods=["POST"])
@bp.arguments(ChallengeCreateIn)
@bp.response(201, ChallengeDetailOut)
@auth.write_access
def create_challenge(data):
    """A draft challenge of one of your organisations (hospitals, firms, the operator; sub-park staff)."""
    user = auth.require_caller()
    data = dict(data)
    with unit_of_work():
        challenge = publishing.create(user, data.pop("organization_id"), data, need_id=data.pop("need_id", None))
        body = challenge_detail(challenge, user, details_shown=True)
        send_etag(challenge)
    return body


@bp.route("/<int:challenge_id>", methods=["GET"])
@bp.response(200, ChallengeDetailOut)
def get_challenge(challenge_id):
    """One challenge; its confidential part only for those allowed (the view is logged)."""
    user = auth.caller()
    with unit_of_work():
        challenge = _challenge(user, challenge_id)
        shown = (confidentiality.open_details(user, challenge, remote_addr=auth.remote_addr()) if user else
                 confidentiality.detail_access(user, challenge)).show
        body = challenge_detail(challenge, user, details_shown=shown)
        send_etag(challenge)
    return body


@bp.route("/<int:challenge_id>", methods=["PATCH"])
@bp.doc(**IF_MATCH_DOC)
@bp.arguments(ChallengeUpdateIn)
@bp.response(200, ChallengeDetailOut)
@auth.write_access
def update_challenge(data, challenge_id):
    """Change a draft or sent-back challenge of your organisation; fields left out keep their values."""
    user = auth.require_caller()
    return versioned_update(
        lambda version: publishing.update(user, _challenge(user, challenge_id), dict(data),
                                          expected_version=version, keep_unsent=True),
        lambda challenge: challenge_detail(challenge, user, details_shown=True))


@bp.route("/<int:challenge_id>/submit", methods=["POST"])
@bp.response(200, ChallengeDetailOut)
@auth.write_access
def submit_challenge(challenge_id):
    """Send a complete draft to the operators for verification (409 unless a draft or sent back)."""
    user = auth.require_caller()
    with unit_of_work():
        challenge = publishing.submit(user, _challenge(user, challenge_id))
        body = challenge_detail(challenge, user, details_shown=True)
    return body


@bp.route("/<int:challenge_id>/questions", methods=["GET"])
@bp.response(200, QuestionListOut)
def list_questions(challenge_id):
    """Publicly answered questions; the challenger sees all, an asker also their own."""
    user = auth.caller()
    challenge = _challenge(user, challenge_id)
    return {"items": [question_body(q, user) for q in challenges_q.questions_for(user, challenge)]}


@bp.route("/<int:challenge_id>/questions", methods=["POST"])
@bp.arguments(QuestionIn)
@bp.response(201, QuestionOut)
@auth.write_access
def ask_question(data, challenge_id):
    """Ask the challenger a question before the deadline (you then follow the challenge's clarifications)."""
    user = auth.require_caller()
    with unit_of_work():
        question = questions.ask(user, _challenge(user, challenge_id), data["text"])
        body = question_body(question, user)
    return body


@bp.route("/<int:challenge_id>/questions/<int:question_id>/answer", methods=["POST"])
@bp.arguments(AnswerIn)
@bp.response(200, QuestionOut)
@auth.write_access
def answer_question(data, challenge_id, question_id):
    """The challenger answers once: `public` (a numbered clarification every registered solver is told of) or
    `private` (only the asker)."""
    user = auth.require_caller()
    with unit_of_work():
        challenge = _challenge(user, challenge_id)
        common.require_manage(user, challenge)
        question = questions.answer(user, challenge, questions.get_question(user, challenge, question_id),
                                    data["answer"], data["visibility"])
        body = question_body(question, user)
    return body


@bp.route("/<int:challenge_id>/proposals", methods=["GET"])
@bp.response(200, ProposalListOut)
def list_proposals(challenge_id):
    """The proposals you may see: your organisation's; the challenger, its panel and operators see all submitted."""
    user = auth.require_caller()
    challenge = _challenge(user, challenge_id)
    return {"items": [proposal_body(p) for p in challenges_q.proposals_for(user, challenge)]}


@bp.route("/<int:challenge_id>/proposals", methods=["POST"])
@bp.arguments(ProposalCreateIn)
@bp.response(201, ProposalOut)
@auth.write_access
def start_proposal(data, challenge_id):
    """Start the draft proposal of one of your organisations (the existing one is returned if there is one)."""
    user = auth.require_caller()
    data = dict(data)
    with unit_of_work():
        proposal = proposals.start(user, _challenge(user, challenge_id), data.pop("lead_organization_id"), data)
        body = proposal_body(proposal)
        send_etag(proposal)
    return body


def _proposal(user, challenge_id: int, proposal_id: int):
    return proposals.get_proposal(user, proposal_id, _challenge(user, challenge_id))


@bp.route("/<int:challenge_id>/proposals/<int:proposal_id>", methods=["GET"])
@bp.response(200, ProposalOut)
def get_proposal(challenge_id, proposal_id):
    """One proposal, for its organisations, the challenger and panel (once submitted) and operators."""
    user = auth.require_caller()
    proposal = _proposal(user, challenge_id, proposal_id)
    send_etag(proposal)
    return proposal_body(proposal)


@bp.route("/<int:challenge_id>/proposals/<int:proposal_id>", methods=["PATCH"])
@bp.doc(**IF_MATCH_DOC)
@bp.arguments(ProposalWriteIn)
@bp.response(200, ProposalOut)
@auth.write_access
def update_proposal(data, challenge_id, proposal_id):
    """Change your draft or submitted proposal before the deadline; fields left out keep their values."""
    user = auth.require_caller()
    return versioned_update(
        lambda version: proposals.update(user, _proposal(user, challenge_id, proposal_id), dict(data),
                                         expected_version=version, keep_unsent=True),
        proposal_body)


@bp.route("/<int:challenge_id>/proposals/<int:proposal_id>/submit", methods=["POST"])
@bp.response(200, ProposalOut)
@auth.write_access
def submit_proposal(challenge_id, proposal_id):
    """Submit your draft before the deadline (409 after it)."""
    return _change(challenge_id, proposal_id, proposals.submit)


@bp.route("/<int:challenge_id>/proposals/<int:proposal_id>/withdraw", methods=["POST"])
@bp.response(200, ProposalOut)
@auth.write_access
def withdraw_proposal(challenge_id, proposal_id):
    """Withdraw your proposal before the deadline (409 after it)."""
    return _change(challenge_id, proposal_id, proposals.withdraw)


def _change(challenge_id: int, proposal_id: int, action) -> dict:
    user = auth.require_caller()
    with unit_of_work():
        proposal = action(user, _proposal(user, challenge_id, proposal_id))
        body = proposal_body(proposal)
    return body

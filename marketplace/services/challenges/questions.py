"""Questions and answers: registered users ask, the challenger answers publicly (a numbered clarification every
registered solver is told of) or privately (only the asker sees it). Services only flush."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from marketplace.extensions import db
from marketplace.models import Challenge, ChallengeClarification, ChallengeQuestion
from marketplace.models.challenges import ANSWER_VISIBILITIES
from marketplace.services import locks
from marketplace.services.challenges import common
from marketplace.services.cleaning import CONTROL_CHARS, drop_lone_surrogates
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

MAX_QUESTION = 2000
MAX_ANSWER = 5000


def _text(value, key: str, limit: int) -> str:
    text = drop_lone_surrogates(CONTROL_CHARS.sub("", str(value or ""))).strip()
    if not text:
        raise ValidationFailed(_l("Please write something."), field_errors={key: _l("This field is required.")})
    if len(text) > limit:
        raise ValidationFailed(_l("At most %(n)d characters.", n=limit),
                               field_errors={key: _l("At most %(n)d characters.", n=limit)})
    return text


def register_interest(user, challenge: Challenge):
    """Follow a published challenge to be told of its clarifications."""
    common.require_view(user, challenge)
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_l("Log in to follow a challenge."))
    if challenge.status != "published":
        raise Conflict(_l("This challenge is not open for questions or proposals."))
    if common.is_challenger(user, challenge):
        raise Conflict(_l("Your organisation published this challenge."))
    return common.register_solver(user, challenge, "interest")


def ask(user, challenge: Challenge, text: str) -> ChallengeQuestion:
    """A registered user (not the challenger) asks a question before the deadline; the challenger is told."""
    from marketplace.services import notifications
    common.require_view(user, challenge)
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_l("Log in to ask a question."))
    if common.is_challenger(user, challenge):
        raise Conflict(_l("Your organisation published this challenge: publish clarifications by answering "
                          "questions."))
    text = _text(text, "text", MAX_QUESTION)
    common.require_open_for_submissions(challenge)
    orgs = sorted(user.org_ids)
    question = ChallengeQuestion(challenge_id=challenge.id, asker_id=user.id,
                                 asker_organization_id=orgs[0] if orgs else None, text=text, created_at=common.now())
    db.session.add(question)
    db.session.flush()
    common.register_solver(user, challenge, "question")
    asker_org = user.organizations[0] if user.organizations else None
    notifications.notify(notifications.members_of(challenge.organization_id), "challenge_question",
                         "challenge_question_asked",
                         dict(common.title_params(challenge), question=text[:300],
                              org=common.org_param(asker_org) if asker_org else user.display_name or ""),
                         common.challenge_path(challenge) + "#questions", about=challenge)
    return question


def get_question(user, challenge: Challenge, question_id: int) -> ChallengeQuestion:
    question = db.session.get(ChallengeQuestion, question_id)
    if question is None or question.challenge_id != challenge.id or not can_see(user, challenge, question):
        raise NotFound(_l("This question does not exist."))
    return question


def can_see(user, challenge: Challenge, question: ChallengeQuestion) -> bool:
    """Public answers: everybody who sees the challenge; others: the asker and the challenger (and operators)."""
    if question.answer_visibility == "public":
        return True
    return common.may_manage(user, challenge) or (getattr(user, "id", None) is not None and
                                                  question.asker_id == user.id)


def answer(user, challenge: Challenge, question: ChallengeQuestion, text: str, visibility_: str) -> ChallengeQuestion:
    """The challenger answers once, publicly (clarification N, every registered solver told) or privately (the
    asker told)."""
    from marketplace.services import notifications
    common.require_manage(user, challenge)
    if visibility_ not in ANSWER_VISIBILITIES:
        raise ValidationFailed(_l("Choose whether the answer is public or private."),
                               field_errors={"visibility": _l("Not a valid choice: %(v)s.", v=visibility_ or "")})
    text = _text(text, "answer", MAX_ANSWER)
    # numbering and the one answer per question hold when two members answer at the same instant
    challenge = locks.lock_instance(challenge)
    question = locks.lock_instance(question)
    if question.challenge_id != challenge.id:
        raise NotFound(_l("This question does not exist."))
    if question.is_answered:
        raise Conflict(_l("This question has already been answered."))
    question.answer, question.answer_visibility = text, visibility_
    question.answered_by_id, question.answered_at = user.id, common.now()
    if visibility_ == "private":
        db.session.flush()
        notifications.notify([question.asker_id], "challenge_update", "challenge_answered_privately",
                             dict(common.title_params(challenge), answer=text[:500]),
                             common.challenge_path(challenge) + "#questions", about=challenge)
        return question
    publish_clarification(user, challenge, f"{question.text}\n— {text}", question=question)
    return question


def publish_clarification(user, challenge: Challenge, body: str, *, question: ChallengeQuestion | None = None
                          ) -> ChallengeClarification:
    """Number and publish a clarification (the challenge row must be locked by the caller or is locked here),
    and tell every registered solver."""
    from marketplace.services import notifications
    common.require_manage(user, challenge)
    body = _text(body, "body", MAX_QUESTION + MAX_ANSWER + 10)
    challenge = locks.lock_instance(challenge)
    challenge.clarification_number = (challenge.clarification_number or 0) + 1
    clarification = ChallengeClarification(challenge_id=challenge.id, number=challenge.clarification_number,
                                           question_id=question.id if question else None, body=body,
                                           published_by_id=user.id, published_at=common.now())
    db.session.add(clarification)
    db.session.flush()
    notifications.notify(common.registered_solvers(challenge), "challenge_update", "challenge_clarified",
                         dict(common.title_params(challenge), number=clarification.number, body=body[:500]),
                         common.challenge_path(challenge) + "#clarifications",
                         dedupe_key=f"challenge_clarified:{clarification.id}", about=challenge)
    return clarification


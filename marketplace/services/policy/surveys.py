"""Surveys of the park's firms: operators write a short survey (single choice, number, text questions) for an
audience chosen by sub-park, organisation kind and size, then open it (the audience is told) and close it; each
organisation answers once and may change its answers until it closes. Reminders go to the organisations that have
not answered, at most once a day (``REMIND_JOB``). Results and indicators: ``services/policy/survey_results.py``."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.links import path_for
from marketplace.models import Membership, Organization, Survey, SurveyQuestion, SurveyResponse
from marketplace.models.organizations import ORG_KINDS, SIZE_CLASSES, SUB_PARKS
from marketplace.models.surveys import QUESTION_KINDS
from marketplace.services import access, audit, notifications
from marketplace.services.cleaning import Cleaner, parse_id
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.services.locks import lock_instance

REMIND_JOB = "policy.remind_surveys"
MAX_QUESTIONS = 12
MAX_CHOICES = 12
MAX_NUMBER = Decimal(10) ** 12


def _require_staff(user) -> None:
    if not access.is_staff(user):
        raise PermissionDenied(_l("Only platform operators may do this."))


def get_survey(user, survey_id) -> Survey:
    """A survey: operators see every one; others only surveys that were sent (audience checked on answering)."""
    survey = db.session.get(Survey, parse_id(survey_id) or 0)
    if survey is None or (survey.status == "draft" and not access.is_staff(user)):
        raise NotFound(_l("No such survey."))
    return survey


def _questions_from(data: dict, errors: dict) -> list[SurveyQuestion]:
    """Questions from the form's numbered fields ``q1_prompt``, ``q1_kind``, ``q1_choices`` (one per line),
    ``q1_indicator``; blank prompts are skipped."""
    questions = []
    for n in range(1, MAX_QUESTIONS + 1):
        c = Cleaner({k[len(f"q{n}_"):]: v for k, v in data.items() if k.startswith(f"q{n}_")})
        prompt_zh = c.text("prompt", max_length=300)
        prompt_en = c.text("prompt_en", max_length=300)
        if not prompt_zh and not prompt_en:
            continue
        kind = c.choice("kind", QUESTION_KINDS, required=True)
        indicator = c.text("indicator", max_length=40)
        choices = [line.strip()[:100] for line in str(data.get(f"q{n}_choices") or "").splitlines() if line.strip()]
        if kind == "single" and not 2 <= len(choices) <= MAX_CHOICES:
            c.error("choices", _l("Give between 2 and %(n)d choices, one per line.", n=MAX_CHOICES))
        if indicator and kind != "number":
            c.error("indicator", _l("Only a number question follows an indicator."))
        for key, message in c.errors.items():
            errors[f"q{n}_{key}"] = message
        questions.append(SurveyQuestion(position=n, kind=kind or "text", prompt_zh=prompt_zh or prompt_en,
                                        prompt_en=prompt_en, choices=choices if kind == "single" else [],
                                        indicator=indicator))
    if not questions and "q1_prompt" not in errors:
        errors["q1_prompt"] = _l("Ask at least one question.")
    return questions


def create_survey(user, data: dict, *, today: date) -> Survey:
    """A draft survey with its questions and audience; flushes. Refused input changes nothing."""
    _require_staff(user)
    c = Cleaner(data)
    title_zh = c.text("title_zh", max_length=200)
    title_en = c.text("title_en", max_length=200)
    description_zh = c.text("description_zh", max_length=5000)
    description_en = c.text("description_en", max_length=5000)
    closes_on = c.date("closes_on", required=True)
    sub_parks = c.choices("audience_sub_parks", SUB_PARKS)
    kinds = c.choices("audience_kinds", ORG_KINDS)
    sizes = c.choices("audience_sizes", SIZE_CLASSES)
    if not title_zh and not title_en:
        c.error("title_zh", _l("Give a title in Chinese or English."))
    if closes_on is not None and closes_on < today:
        c.error("closes_on", _l("The closing date cannot be in the past."))
    errors = dict(c.errors)
    questions = _questions_from(data, errors)
    if errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=errors)
    survey = Survey(title_zh=title_zh or title_en, title_en=title_en, description_zh=description_zh,
                    description_en=description_en, closes_on=closes_on, audience_sub_parks=sub_parks or [],
                    audience_kinds=kinds or [], audience_sizes=sizes or [], status="draft",
                    created_by_id=audit.actor_of(user), questions=questions)
    db.session.add(survey)
    db.session.flush()
    audit.record(db.session, actor_id=audit.actor_of(user), action="policy", object_type="survey",
                 object_id=survey.id, summary=survey.title_zh, details={"questions": len(questions)})
    return survey


def audience_clause(survey: Survey):
    """SQL condition on ``Organization`` selecting the survey's audience (empty lists mean any)."""
    conditions = []
    if survey.audience_sub_parks:
        conditions.append(Organization.sub_park.in_(survey.audience_sub_parks))
    if survey.audience_kinds:
        conditions.append(Organization.kind.in_(survey.audience_kinds))
    if survey.audience_sizes:
        conditions.append(Organization.size_class.in_(survey.audience_sizes))
    return conditions


def audience(survey: Survey) -> list[Organization]:
    """Organisations with members that the survey asks."""
    return list(db.session.scalars(select(Organization).where(
        Organization.id.in_(select(Membership.organization_id)), *audience_clause(survey)).order_by(Organization.id)))


def in_audience(org: Organization, survey: Survey) -> bool:
    return ((not survey.audience_sub_parks or org.sub_park in survey.audience_sub_parks)
            and (not survey.audience_kinds or org.kind in survey.audience_kinds)
            and (not survey.audience_sizes or org.size_class in survey.audience_sizes))


def is_open(survey: Survey, today: date) -> bool:
    return survey.status == "open" and survey.closes_on >= today


def _tell(survey: Survey, orgs, key: str, today: date) -> int:
    """Notify each organisation's members once a day about the survey; returns organisations told now."""
    link = path_for("surveys.detail", survey_id=survey.id)
    messages = [notifications.Message(notifications.members_of(org.id), {
        "org": notifications.bilingual(org, "name"), "survey": notifications.bilingual(survey, "title"),
        "closes": survey.closes_on.isoformat()}, link, f"survey:{survey.id}:{org.id}:{today.isoformat()}", survey)
        for org in orgs]
    created = notifications.notify_each("survey", key, messages)
    told = {n.user_id for n in created}
    return sum(1 for m in messages if told & set(m.user_ids))


def open_survey(user, survey: Survey, *, now: datetime, today: date) -> int:
    """Send a draft survey: it opens and its audience is told. Returns how many organisations were told."""
    _require_staff(user)
    survey = lock_instance(survey)
    if survey.status != "draft":
        raise Conflict(_l("This survey was already sent."))
    if survey.closes_on < today:
        raise Conflict(_l("The closing date has passed: make a new survey."))
    survey.status, survey.opened_at = "open", now
    db.session.flush()
    audit.record(db.session, actor_id=audit.actor_of(user), action="policy", object_type="survey",
                 object_id=survey.id, summary=survey.title_zh, details={"status": "open"})
    return _tell(survey, audience(survey), "survey_invitation", today)


def close_survey(user, survey: Survey) -> Survey:
    """Close an open survey by hand (answers can no longer change)."""
    _require_staff(user)
    survey = lock_instance(survey)
    if survey.status != "open":
        raise Conflict(_l("Only an open survey can be closed."))
    survey.status = "closed"
    db.session.flush()
    audit.record(db.session, actor_id=audit.actor_of(user), action="policy", object_type="survey",
                 object_id=survey.id, summary=survey.title_zh, details={"status": "closed"})
    return survey


def response_of(survey: Survey, org_id: int) -> SurveyResponse | None:
    return db.session.scalar(select(SurveyResponse).where(SurveyResponse.survey_id == survey.id,
                                                          SurveyResponse.organization_id == org_id))


def _clean_answer(question: SurveyQuestion, raw) -> tuple[object, object]:
    """(value, error) for one answer; every question must be answered."""
    raw = ("" if raw is None else str(raw)).strip()
    if not raw:
        return None, _l("Answer this question.")
    if question.kind == "single":
        return (raw, None) if raw in question.choices else (None, _l("Choose one of the answers."))
    if question.kind == "number":
        try:
            number = Decimal(raw.replace(",", ""))
        except InvalidOperation:
            return None, _l("Enter a number.")
        if not number.is_finite() or abs(number) > MAX_NUMBER:
            return None, _l("Enter a number.")
        return float(number), None
    return (raw[:2000], None) if len(raw) <= 2000 else (None, _l("At most %(n)d characters.", n=2000))


def answer(user, org: Organization, survey: Survey, data: dict, *, now: datetime, today: date) -> SurveyResponse:
    """Record (or replace) ``org``'s answers while the survey is open; flushes. ``data``: ``q<id>`` per
    question, and ``version`` when changing earlier answers."""
    if not access.is_member_of(user, org.id):
        raise PermissionDenied(_l("Only members of the organisation may answer for it."))
    if not in_audience(org, survey):
        raise PermissionDenied(_l("This survey does not ask your organisation."))
    if not is_open(survey, today):
        raise Conflict(_l("This survey is closed: answers can no longer change."))
    values, errors = {}, {}
    for question in survey.questions:
        value, error = _clean_answer(question, data.get(f"q{question.id}"))
        if error:
            errors[f"q{question.id}"] = error
        else:
            values[str(question.id)] = value
    if errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=errors)
    survey = lock_instance(survey)  # one response per organisation even when two members answer at once
    response = response_of(survey, org.id)
    if response is None:
        response = SurveyResponse(survey_id=survey.id, organization_id=org.id, submitted_at=now)
        db.session.add(response)
    else:
        from marketplace.services import versions
        response = versions.claim(response, data.get("version"))
    response.answers, response.updated_at = values, now
    response.submitted_by_id = audit.actor_of(user)
    db.session.flush()
    return response


def remind(*, today: date) -> dict:
    """Close surveys past their date; remind the organisations that have not answered the open ones (once a
    day). Returns counts."""
    closed = 0
    for survey in db.session.scalars(select(Survey).where(Survey.status == "open", Survey.closes_on < today)):
        survey.status = "closed"
        closed += 1
    told = 0
    for survey in db.session.scalars(select(Survey).where(Survey.status == "open")):
        answered = set(db.session.scalars(select(SurveyResponse.organization_id).where(
            SurveyResponse.survey_id == survey.id)))
        told += _tell(survey, [o for o in audience(survey) if o.id not in answered], "survey_reminder", today)
    db.session.flush()
    return {"closed": closed, "reminded": told}

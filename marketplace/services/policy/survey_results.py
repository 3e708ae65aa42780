"""What the park learns from its surveys: per question the answers counted (choices), summed up (numbers) or
listed (texts); responses per day; indicators (number questions with the same code) over successive surveys; and
the responses as a workbook."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.models import Survey, SurveyQuestion, SurveyResponse
from marketplace.services.exports import ExportColumn, ExportTable, xlsx_bytes


def responses(survey: Survey) -> list[SurveyResponse]:
    return list(db.session.scalars(select(SurveyResponse).where(SurveyResponse.survey_id == survey.id)
                                   .options(selectinload(SurveyResponse.organization))
                                   .order_by(SurveyResponse.submitted_at, SurveyResponse.id)))


def summary(survey: Survey, rows: list[SurveyResponse]) -> list[dict]:
    """One entry per question: ``counts`` (choice → n, every choice listed) for single choice, ``count``,
    ``mean``, ``low``, ``high`` for numbers, ``texts`` for text answers."""
    out = []
    for question in survey.questions:
        answers = [r.answers.get(str(question.id)) for r in rows if r.answers.get(str(question.id)) is not None]
        entry = {"question": question, "answered": len(answers)}
        if question.kind == "single":
            counted = Counter(answers)
            entry["counts"] = [(choice, counted.get(choice, 0)) for choice in question.choices]
        elif question.kind == "number":
            numbers = [float(a) for a in answers]
            entry.update(count=len(numbers), mean=round(sum(numbers) / len(numbers), 1) if numbers else None,
                         low=min(numbers, default=None), high=max(numbers, default=None))
        else:
            entry["texts"] = [str(a) for a in answers]
        out.append(entry)
    return out


def responses_per_day(rows: list[SurveyResponse]) -> tuple[list[str], list[int]]:
    """(days as MM-DD, first answers per day), from the first answer to the last (days without any included)."""
    days = sorted({r.submitted_at.date() for r in rows})
    if not days:
        return [], []
    from datetime import timedelta
    counted = Counter(r.submitted_at.date() for r in rows)
    span = [days[0] + timedelta(days=n) for n in range((days[-1] - days[0]).days + 1)]
    return [f"{d:%m-%d}" for d in span], [counted.get(d, 0) for d in span]


def indicators() -> dict[str, list[dict]]:
    """Indicator code → its value (mean of the answers) in each survey that asked it, oldest survey first."""
    questions = list(db.session.scalars(select(SurveyQuestion).join(Survey).where(
        SurveyQuestion.indicator != "", Survey.status != "draft").options(selectinload(SurveyQuestion.survey))))
    if not questions:
        return {}
    survey_ids = {q.survey_id for q in questions}
    answers: dict[int, list[dict]] = {}
    for row in db.session.scalars(select(SurveyResponse).where(SurveyResponse.survey_id.in_(survey_ids))):
        answers.setdefault(row.survey_id, []).append(row.answers)
    out: dict[str, list[dict]] = {}
    for question in sorted(questions, key=lambda q: (q.survey.closes_on, q.survey_id)):
        values = [float(a[str(question.id)]) for a in answers.get(question.survey_id, [])
                  if a.get(str(question.id)) is not None]
        out.setdefault(question.indicator, []).append({
            "survey": question.survey, "question": question, "count": len(values),
            "mean": round(sum(values) / len(values), 1) if values else None})
    return out


def workbook(survey: Survey, rows: list[SurveyResponse]) -> bytes:
    """The responses, one row per organisation, one column per question (bilingual headers)."""
    columns = [ExportColumn("组织", "Organisation", lambda r: r.organization.name_zh),
               ExportColumn("首次提交", "First answered", lambda r: r.submitted_at.strftime("%Y-%m-%d %H:%M")),
               ExportColumn("最后修改", "Last changed", lambda r: r.updated_at.strftime("%Y-%m-%d %H:%M"))]
    columns += [ExportColumn(q.prompt_zh, q.prompt_en or q.prompt_zh, _answer_of(q)) for q in survey.questions]
    return xlsx_bytes(ExportTable(f"survey-{survey.id}", tuple(columns), rows))


def _answer_of(question: SurveyQuestion):
    key = str(question.id)
    return lambda row: "" if row.answers.get(key) is None else row.answers[key]

"""Reads for surveys: every survey with its response count (operators), and the open surveys asking an
organisation with its answer state."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Organization, Survey, SurveyResponse


def all_surveys() -> list[dict]:
    """Every survey, newest first, with how many organisations answered."""
    counts = {survey_id: n for survey_id, n in db.session.execute(
        select(SurveyResponse.survey_id, func.count(SurveyResponse.id)).group_by(SurveyResponse.survey_id))}
    return [{"survey": s, "responses": counts.get(s.id, 0)}
            for s in db.session.scalars(select(Survey).order_by(Survey.created_at.desc(), Survey.id.desc()))]


def open_for(org: Organization, today: date) -> list[dict]:
    """Open surveys whose audience includes ``org``, each with the organisation's response (None if none)."""
    from marketplace.services.policy.surveys import audience_clause
    surveys = [s for s in db.session.scalars(select(Survey).where(Survey.status == "open", Survey.closes_on >= today)
                                             .order_by(Survey.closes_on, Survey.id))
               if db.session.scalar(select(Organization.id).where(Organization.id == org.id,
                                                                   *audience_clause(s)))]
    answered = {r.survey_id: r for r in db.session.scalars(select(SurveyResponse).where(
        SurveyResponse.organization_id == org.id, SurveyResponse.survey_id.in_([s.id for s in surveys] or [0])))}
    return [{"survey": s, "response": answered.get(s.id)} for s in surveys]

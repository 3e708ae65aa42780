"""Surveys and monitoring: operators write a survey for an audience (sub-park, kind, size), send it (the audience
is told), firms answer once and may change their answers until it closes; reminders once a day; results with
charts, indicators over successive surveys, and an Excel export."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Notification, Organization, Survey, SurveyQuestion, SurveyResponse
from marketplace.tasks import policy as policy_tasks
from tests.conftest import login


def _today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _as(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def _firm(app, make, sub_park="haidian", size="small", kind="firm"):
    org, user, email = make.member(kind)
    with app.app_context():
        row = db.session.get(Organization, org)
        row.sub_park, row.size_class = sub_park, size
        db.session.commit()
    return org, user, email


def _survey_form(**extra) -> dict:
    return {"title_zh": "复工复产情况周报", "title_en": "Weekly return to work", "description_zh": "请如实填写。",
            "closes_on": (_today() + timedelta(days=7)).isoformat(), "audience_sub_parks": ["haidian"],
            "audience_kinds": ["firm"], "q1_prompt": "员工返岗比例（%）", "q1_kind": "number",
            "q1_indicator": "staff_back_pct", "q2_prompt": "是否存在供应链断点", "q2_kind": "single",
            "q2_choices": "是\n否", "q3_prompt": "最需要的帮助", "q3_kind": "text", **extra}


def _operator(app, make):
    _uid, email = make.staff("operator")
    return _as(app, email)


def _create(operator, **extra) -> int:
    response = operator.post("/surveys/new", data=_survey_form(**extra))
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def _questions(app, survey_id) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(SurveyQuestion.id).where(SurveyQuestion.survey_id == survey_id)
                                       .order_by(SurveyQuestion.position)))


def test_an_operator_sends_a_survey_its_audience_answers_and_may_change_until_it_closes(app, make):
    asked, asked_user, asked_email = _firm(app, make)
    _elsewhere, _elsewhere_user, elsewhere_email = _firm(app, make, sub_park="changping")
    _firm(app, make, kind="hospital")
    operator = _operator(app, make)
    survey_id = _create(operator)
    q_number, q_choice, q_text = _questions(app, survey_id)
    firm = _as(app, asked_email)
    assert firm.get(f"/surveys/{survey_id}").status_code == 404  # a draft is the operators' alone
    assert operator.post(f"/surveys/{survey_id}/send").status_code == 302
    with app.app_context():
        told = {n.user_id for n in db.session.scalars(select(Notification).where(Notification.kind == "survey"))}
        assert told == {asked_user}
    assert "复工复产情况周报" in firm.get("/surveys/").get_data(as_text=True)
    answers = {f"q{q_number}": "80", f"q{q_choice}": "是", f"q{q_text}": "需要替代的流量传感器供应商"}
    assert firm.post(f"/surveys/{survey_id}/answer?org={asked}", data=answers).status_code == 302
    changed = {**answers, f"q{q_number}": "95", "version": "1"}
    assert firm.post(f"/surveys/{survey_id}/answer?org={asked}", data=changed).status_code == 302
    stale = {**answers, f"q{q_number}": "10", "version": "1"}
    assert firm.post(f"/surveys/{survey_id}/answer?org={asked}", data=stale).status_code == 409
    with app.app_context():
        (response,) = db.session.scalars(select(SurveyResponse))
        assert response.organization_id == asked and response.answers[str(q_number)] == 95.0
    # Not in the audience: nothing to answer.
    assert _as(app, elsewhere_email).post(f"/surveys/{survey_id}/answer", data=answers).status_code == 404
    results = operator.get(f"/surveys/{survey_id}").get_data(as_text=True)
    assert 'id="chart-q' in results and "95.0" in results and "需要替代的流量传感器供应商" in results
    listing = operator.get("/surveys/").get_data(as_text=True)
    assert "复工复产情况周报" in listing and f"/surveys/{survey_id}" in listing
    assert operator.post(f"/surveys/{survey_id}/close").status_code == 302
    assert firm.post(f"/surveys/{survey_id}/answer?org={asked}", data={**answers, "version": "2"}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(SurveyResponse.answers)).get(str(q_number)) == 95.0
        assert db.session.scalar(select(func.count(SurveyResponse.id))) == 1


def test_bad_surveys_and_bad_answers_are_refused_and_change_nothing(app, make):
    asked, _u, asked_email = _firm(app, make)
    operator = _operator(app, make)
    for bad in ({"title_zh": "", "title_en": ""}, {"closes_on": "2001-01-01"}, {"closes_on": "not a date"},
                {"q2_choices": "只有一个"}, {"q3_indicator": "x"}, {"q1_kind": "essay"},
                {"audience_kinds": ["dragons"]}, {"q1_prompt": "", "q2_prompt": "", "q3_prompt": ""}):
        response = operator.post("/surveys/new", data=_survey_form(**bad))
        assert response.status_code == 200, bad
    with app.app_context():
        assert db.session.scalar(select(func.count(Survey.id))) == 0
    survey_id = _create(operator)
    operator.post(f"/surveys/{survey_id}/send")
    q_number, q_choice, q_text = _questions(app, survey_id)
    firm = _as(app, asked_email)
    good = {f"q{q_number}": "80", f"q{q_choice}": "是", f"q{q_text}": "无"}
    for bad in ({f"q{q_number}": "eighty"}, {f"q{q_number}": "1e400"}, {f"q{q_choice}": "也许"}, {f"q{q_text}": ""},
                {f"q{q_number}": "NaN"}):
        response = firm.post(f"/surveys/{survey_id}/answer?org={asked}", data={**good, **bad})
        assert response.status_code == 400, bad
        assert "is-invalid" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(SurveyResponse.id))) == 0
    _o, _u2, member_email = make.member("firm")
    member = _as(app, member_email)
    for path in ("/surveys/new", f"/surveys/{survey_id}/responses.xlsx", "/surveys/indicators"):
        assert member.get(path).status_code == 404
    assert member.post(f"/surveys/{survey_id}/close").status_code == 404
    assert member.get("/surveys/999999").status_code == 404


def test_reminders_once_a_day_and_surveys_past_their_date_close(app, make):
    _asked, asked_user, _e = _firm(app, make)
    answered, _answered_user, answered_email = _firm(app, make)
    operator = _operator(app, make)
    survey_id = _create(operator)
    operator.post(f"/surveys/{survey_id}/send")
    q_number, q_choice, q_text = _questions(app, survey_id)
    _as(app, answered_email).post(f"/surveys/{survey_id}/answer?org={answered}",
                                  data={f"q{q_number}": "100", f"q{q_choice}": "否", f"q{q_text}": "无"})
    day = _today() + timedelta(days=1)
    with app.app_context():
        assert policy_tasks.remind_surveys(today=day.isoformat()) == {"closed": 0, "reminded": 1}
        assert policy_tasks.remind_surveys(today=day.isoformat()) == {"closed": 0, "reminded": 0}
        reminded = set(db.session.scalars(select(Notification.user_id).where(
            Notification.message_key == "survey_reminder")))
        assert reminded == {asked_user}
        later = (_today() + timedelta(days=8)).isoformat()
        assert policy_tasks.remind_surveys(today=later) == {"closed": 1, "reminded": 0}
        assert db.session.get(Survey, survey_id).status == "closed"


def test_indicators_over_surveys_and_the_excel_export(app, make):
    firms = [_firm(app, make) for _ in range(2)]
    operator = _operator(app, make)
    means = []
    for week, values in enumerate((("40", "60"), ("80", "100"))):
        survey_id = _create(operator, title_zh=f"复工周报第{week + 1}周",
                            closes_on=(_today() + timedelta(days=3 + week)).isoformat())
        operator.post(f"/surveys/{survey_id}/send")
        q_number, q_choice, q_text = _questions(app, survey_id)
        for (org, _u, email), value in zip(firms, values):
            _as(app, email).post(f"/surveys/{survey_id}/answer?org={org}",
                                 data={f"q{q_number}": value, f"q{q_choice}": "是", f"q{q_text}": "=1+1"})
        means.append(sum(map(float, values)) / 2)
    page = operator.get("/surveys/indicators").get_data(as_text=True)
    assert 'data-indicator="staff_back_pct"' in page and "50.0" in page and "90.0" in page
    assert page.index("复工周报第1周") < page.index("复工周报第2周")
    export = operator.get(f"/surveys/{survey_id}/responses.xlsx")
    assert export.status_code == 200
    sheet = load_workbook(BytesIO(export.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3 and "员工返岗比例（%）" in str(rows[0])
    assert all(not str(cell).startswith("=") for row in rows for cell in row if cell is not None)
    assert means == [50.0, 90.0]


def test_the_demo_surveys_show_recovery_over_three_weeks(app, make):
    import random

    from marketplace.demo.surveys import add_surveys
    from marketplace.services.policy import survey_results
    ids = [make.member("firm")[0] for _ in range(6)]
    with app.app_context():
        firms = [db.session.get(Organization, i) for i in ids]
        assert add_surveys(db.session, random.Random(3), today=_today(), firms=firms, operator_id=None) > 0
        db.session.commit()
        points = survey_results.indicators()["staff_back_pct"]
        assert len(points) == 3 and points[0]["mean"] < points[-1]["mean"]
        assert [p["survey"].status for p in points] == ["closed", "closed", "open"]
    operator = _operator(app, make)
    assert 'data-indicator="capacity_pct"' in operator.get("/surveys/indicators").get_data(as_text=True)
    with app.app_context():
        survey_id = db.session.scalar(select(Survey.id).where(Survey.status == "open"))
    page = operator.get(f"/surveys/{survey_id}").get_data(as_text=True)
    assert 'id="chart-survey-days"' in page and "chart-q" in page

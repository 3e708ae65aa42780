"""Enterprise liaison: firms report difficulties to their sub-park, whose staff answer, route, post a need or
close; overdue reports are flagged; nobody else sees a firm's reports."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import LiaisonReport, Need, Organization, SubParkStaff, User
from marketplace.services.policy import catalogue
from marketplace.tasks import policy as policy_tasks
from tests.conftest import login

REPORT = {"topic": "supply_chain", "title": "呼吸机核心部件进口受阻",
          "body": "上游供应商尚未复工，进口涡轮风机延迟到货，需要替代供应商。"}


def _as(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def _firm(app, make, sub_park="haidian"):
    org, _user, email = make.member("firm")
    with app.app_context():
        db.session.get(Organization, org).sub_park = sub_park
        db.session.commit()
    return org, email


def _sub_park_staff(app, make, sub_park="haidian"):
    _uid, email = make.staff("broker")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.add(SubParkStaff(user_id=user.id, sub_park=sub_park))
        db.session.commit()
    return _as(app, email)


def _report(app, make, **kw):
    org, email = _firm(app, make, **kw)
    firm = _as(app, email)
    response = firm.post("/liaison/", data={**REPORT, "org": org})
    assert response.status_code == 302
    report_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    return report_id, firm, org


def test_a_firm_reports_and_its_sub_park_turns_it_into_a_need_suppliers_see(app, make):
    report_id, firm, org = _report(app, make)
    staff = _sub_park_staff(app, make)
    desk = staff.get("/liaison/desk").get_data(as_text=True)
    assert "呼吸机核心部件进口受阻" in desk
    assert staff.post(f"/liaison/{report_id}/handle", data={"action": "post_need", "text": "已发布为供应需求"}
                      ).status_code == 302
    with app.app_context():
        report = db.session.get(LiaisonReport, report_id)
        need = db.session.get(Need, report.need_id)
        assert report.status == "need_posted" and need.organization_id == org
        assert need.kind == "manufacturing_supply" and need.status == "open" and need.title_zh == REPORT["title"]
    _supplier_org, _u, supplier_email = make.member("firm")
    assert "呼吸机核心部件进口受阻" in _as(app, supplier_email).get(f"/needs/{need.id}").get_data(as_text=True)
    assert "已发布为供应需求" in firm.get(f"/liaison/{report_id}").get_data(as_text=True)


def test_staff_of_another_sub_park_and_other_firms_see_nothing(app, make):
    report_id, _firm_client, _org = _report(app, make)
    other_staff = _sub_park_staff(app, make, "changping")
    assert other_staff.get(f"/liaison/{report_id}").status_code == 404
    assert other_staff.post(f"/liaison/{report_id}/handle", data={"action": "answer", "text": "x"}).status_code == 404
    _o, _u, stranger = make.member("firm")
    assert _as(app, stranger).get(f"/liaison/{report_id}").status_code == 404
    with app.app_context():
        assert db.session.get(LiaisonReport, report_id).status == "open"


def test_answers_need_text_and_a_closed_report_stays_closed(app, make):
    report_id, _firm_client, _org = _report(app, make)
    with app.app_context():
        catalogue.load_reference(db.session)
        db.session.commit()
    staff = _sub_park_staff(app, make)
    staff.post(f"/liaison/{report_id}/handle", data={"action": "answer", "text": ""})
    staff.post(f"/liaison/{report_id}/handle", data={"action": "route", "office_id": "99999"})
    with app.app_context():
        assert db.session.get(LiaisonReport, report_id).status == "open"
    staff.post(f"/liaison/{report_id}/handle", data={"action": "close", "text": "供应商已复工"})
    staff.post(f"/liaison/{report_id}/handle", data={"action": "answer", "text": "再次回答"})
    with app.app_context():
        report = db.session.get(LiaisonReport, report_id)
        assert (report.status, report.result, report.answer) == ("closed", "供应商已复工", "")


def test_bad_reports_are_refused_and_nothing_is_saved(app, make):
    org, email = _firm(app, make)
    firm = _as(app, email)
    for bad in ({"topic": "weather"}, {"title": ""}, {"body": ""}, {"title": "x" * 201}):
        assert firm.post("/liaison/", data={**REPORT, "org": org, **bad}).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(LiaisonReport.id)) is None


def test_overdue_reports_are_escalated_once(app, make):
    report_id, _firm_client, _org = _report(app, make)
    later = datetime.now(timezone.utc) + timedelta(days=4)
    with app.app_context():
        assert policy_tasks.escalate_overdue_reports(now=later) == {"escalated": 1}
        assert policy_tasks.escalate_overdue_reports(now=later) == {"escalated": 0}
    _uid, operator_email = make.staff("operator")
    assert "text-danger" in _as(app, operator_email).get("/liaison/desk").get_data(as_text=True)

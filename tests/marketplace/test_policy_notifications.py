"""Firms hear of measures that may fit them: when an operator changes a measure (a job after the save), and when
an operator reminds the firms that likely qualify and have not filed. Never twice the same day for the same firm
and measure; each person's preferences for the ``policy`` kind hold."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (Notification, NotificationPreference, Organization, PolicyAnswer, PolicyFiling,
                                PolicyFilingPart, PolicyMeasure)
from marketplace.services.policy import catalogue
from tests.conftest import login


@pytest.fixture
def measures(app):
    with app.app_context():
        catalogue.load_reference(db.session)
        db.session.commit()
        return {m.number: m.id for m in db.session.scalars(select(PolicyMeasure))}


def _as(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def _firm(app, make, size="small", rd="yes") -> tuple[int, int, str]:
    org, user, email = make.member("firm")
    with app.app_context():
        row = db.session.get(Organization, org)
        row.short_name, row.registered_in_park, row.size_class = "火眼公司", True, size
        if rd:
            db.session.add(PolicyAnswer(organization_id=org, question="rd_spending", value=rd))
        db.session.commit()
    make.offer(org, field_codes=("D1.ivd",))
    return org, user, email


def _policy_notes(app, user_id) -> list[Notification]:
    with app.app_context():
        return list(db.session.scalars(select(Notification).where(Notification.user_id == user_id,
                                                                  Notification.kind == "policy")))


def _edit(app, operator, measure_id, **changes):
    with app.app_context():
        data = catalogue.snapshot(db.session.get(PolicyMeasure, measure_id))
    data.update(conditions=__import__("json").dumps(data["conditions"]), max_amount_rmb=data["max_amount_rmb"] or "",
                valid_until="", **changes)
    assert operator.post(f"/policies/{measure_id}/edit", data=data).status_code == 302


def test_a_changed_measure_tells_the_firms_it_may_fit_once_a_day(app, make, measures):
    _small, small_user, small_email = _firm(app, make)
    _unknown, unknown_user, _e = _firm(app, make, rd="")  # R&D spending not declared: "may qualify"
    _large, large_user, _e2 = _firm(app, make, size="large")
    _uid, operator_email = make.staff("operator")
    operator = _as(app, operator_email)
    _edit(app, operator, measures[5], benefit_zh="每家最高不超过30万元研发费用补贴")
    (note,) = _policy_notes(app, small_user)
    assert note.message_key == "measure_changed" and note.link == f"/policies/{measures[5]}"
    assert len(_policy_notes(app, unknown_user)) == 1
    assert _policy_notes(app, large_user) == []
    inbox = _as(app, small_email).get("/notifications/").get_data(as_text=True)
    assert "支持小微企业开展抗疫新技术、新产品研发" in inbox
    _edit(app, operator, measures[5], benefit_zh="每家最高不超过35万元研发费用补贴")  # again today: nobody again
    assert len(_policy_notes(app, small_user)) == 1
    _edit(app, operator, measures[5])  # nothing changed: no job at all
    assert len(_policy_notes(app, small_user)) == 1


def test_operators_remind_likely_firms_that_have_not_filed_once_a_day(app, make, measures):
    filed_org, filed_user, _e = _firm(app, make)
    _org, waiting_user, _e2 = _firm(app, make)
    _org3, muted_user, _e3 = _firm(app, make)
    with app.app_context():
        measure = db.session.get(PolicyMeasure, measures[5])
        filing = PolicyFiling(organization_id=filed_org, title="20200206 火眼公司（第5条）", project_name="p",
                              filed_on=__import__("datetime").date(2020, 2, 6))
        filing.parts.append(PolicyFilingPart(measure_id=measure.id, measure_number=5))
        db.session.add(filing)
        db.session.add_all(NotificationPreference(user_id=muted_user, kind="policy", channel=channel, enabled=False)
                           for channel in ("site", "email", "digest"))
        db.session.commit()
    _uid, operator_email = make.staff("operator")
    operator = _as(app, operator_email)
    page = operator.get(f"/policies/{measures[5]}/candidates").get_data(as_text=True)
    assert 'id="unfiled-count">2<' in page
    assert operator.post(f"/policies/{measures[5]}/remind").status_code == 302
    (note,) = _policy_notes(app, waiting_user)
    assert note.message_key == "measure_reminder" and note.in_site
    (muted,) = _policy_notes(app, muted_user)
    assert not muted.in_site and muted.email_state == "none"
    assert _policy_notes(app, filed_user) == []
    operator.post(f"/policies/{measures[5]}/remind")
    assert len(_policy_notes(app, waiting_user)) == 1
    _o, _u, member_email = make.member("firm")
    member = _as(app, member_email)
    assert member.get(f"/policies/{measures[5]}/candidates").status_code == 404
    assert member.post(f"/policies/{measures[5]}/remind").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(Notification.id)).where(Notification.kind == "policy")) == 2


def test_the_policy_kind_is_on_the_preferences_page(app, make):
    _o, _u, email = make.member("firm")
    from marketplace.services.notification_kinds import KINDS
    with app.test_request_context("/"):
        label = str(KINDS["policy"].label)
    assert label in _as(app, email).get("/account/notifications").get_data(as_text=True)


def test_operators_add_a_measure_of_the_park_and_the_firms_it_fits_are_told(app, make, measures):
    """A measure the park adds is numbered after the last one it added, is public at once with its office, and
    the firms it may fit hear of it. A form with mistakes keeps its input and adds nothing; firms cannot add."""
    _small, small_user, small_email = _firm(app, make)
    _large, large_user, _e = _firm(app, make, size="large")
    _uid, operator_email = make.staff("operator")
    operator = _as(app, operator_email)
    assert 'id="add-measure"' in operator.get("/policies/").get_data(as_text=True)
    assert 'id="add-measure"' not in _as(app, small_email).get("/policies/").get_data(as_text=True)
    assert _as(app, small_email).get("/policies/new").status_code == 404
    before = len(measures)
    form = {"title_zh": "首购首用奖励", "title_en": "First purchase award", "benefit_zh": "最高50万元",
            "beneficiaries_zh": "园区注册的小微企业", "status": "active", "max_amount_rmb": "500000",
            "conditions": '[{"fact": "size_class", "op": "in", "value": ["micro", "small"]}]'}
    page = operator.post("/policies/new", data=form)  # no office chosen
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert "请选择负责该措施的处室" in html and 'value="首购首用奖励"' in html
    assert operator.post("/policies/new", data={**form, "office_codes": ["industry"], "conditions": "[{"}
                         ).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(PolicyMeasure.id))) == before
        office = db.session.scalar(select(PolicyMeasure).where(PolicyMeasure.number == 2)).offices[0].code
    r = operator.post("/policies/new", data={**form, "office_codes": [office]})
    assert r.status_code == 302
    added_id = int(r.headers["Location"].rsplit("/", 1)[1])
    again = operator.post("/policies/new", data={**form, "title_zh": "第二项新增", "office_codes": [office]})
    with app.app_context():
        first, second = (db.session.get(PolicyMeasure, added_id),
                         db.session.get(PolicyMeasure, int(again.headers["Location"].rsplit("/", 1)[1])))
        assert (first.source_code, first.number, second.number) == ("park", 1, 2)
        assert [o.code for o in first.offices] == [office]
    public = app.test_client().get(f"/policies/{added_id}").get_data(as_text=True)
    assert "首购首用奖励" in public and "园区新增支持措施" in public
    assert [n.link for n in _policy_notes(app, small_user)] == [f"/policies/{added_id}", f"/policies/{added_id + 1}"]
    assert _policy_notes(app, large_user) == []

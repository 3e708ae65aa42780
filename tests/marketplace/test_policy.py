"""Policy desk: measures as data, which fit a firm and why, filings titled as the notice requires, office review."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import (AuditEntry, Organization, PolicyAnswer, PolicyFiling, PolicyFilingPart, PolicyMeasure,
                                PolicyMeasureRevision, PolicyOffice, PolicyOfficeStaff)
from marketplace.services.policy import catalogue, eligibility
from marketplace.services.policy.filings import record_title
from tests.conftest import login

FILING = {"project_name": "新冠核酸快速检测试剂盒", "direction": "D1", "description": "一周内完成研发，已获CE认证。",
          "contact_name": "王工", "contact_phone": "010-88880000", "measures": ["2", "4", "7"]}


@pytest.fixture
def measures(app):
    with app.app_context():
        catalogue.load_reference(db.session)
        db.session.commit()
        return {m.number: m.id for m in db.session.scalars(select(PolicyMeasure))}


def _firm(app, make, **profile) -> tuple[int, str]:
    org, _user, email = make.member("firm")
    with app.app_context():
        row = db.session.get(Organization, org)
        for key, value in {"short_name": "火眼公司", "registered_in_park": True, "size_class": "small",
                           **profile}.items():
            setattr(row, key, value)
        db.session.commit()
    make.offer(org, field_codes=("D1.ivd",))
    return org, email


def _as(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def _office_staff(app, make, code: str):
    _uid, email = make.staff("broker")
    with app.app_context():
        office = db.session.scalar(select(PolicyOffice).where(PolicyOffice.code == code))
        from marketplace.models import User
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.add(PolicyOfficeStaff(office_id=office.id, user_id=user.id))
        db.session.commit()
    return _as(app, email)


def test_record_title_is_exactly_the_notices_format():
    assert record_title(date(2020, 2, 6), "XXX公司", [7, 2, 4, 2]) == "20200206 XXX公司（第2、4、7条）"
    assert record_title(date(2021, 11, 30), " 火眼公司 ", [10]) == "20211130 火眼公司（第10条）"


def test_reference_measures_load_once_with_their_offices(app, measures):
    with app.app_context():
        assert catalogue.load_reference(db.session) == 0
        assert len(measures) == 13
        rd = db.session.get(PolicyMeasure, measures[5])
        assert [o.code for o in rd.offices] == ["startup"] and int(rd.max_amount_rmb) == 200000


def test_small_park_firm_with_rd_spending_likely_qualifies_for_the_rd_subsidy(app, make, measures):
    org, _ = _firm(app, make)
    with app.test_request_context():
        db.session.add(PolicyAnswer(organization_id=org, question="rd_spending", value="yes"))
        db.session.commit()
        row = db.session.get(Organization, org)
        fit = eligibility.evaluate(db.session.get(PolicyMeasure, measures[5]), eligibility.facts_for(row))
        assert fit.verdict == "likely"
        assert {c.fact: c.status for c in fit.checks} == {
            "org_kind": "met", "registered_in_park": "met", "size_class": "met", "directions": "met",
            "rd_spending": "met"}


def test_unknown_size_is_a_missing_condition_with_the_action_that_settles_it(app, make, measures):
    org, email = _firm(app, make, size_class=None)
    page = _as(app, email).get("/policies/matches").get_data(as_text=True)
    assert "完善机构资料" in page or "Complete the organisation profile" in page
    with app.test_request_context():
        fit = eligibility.evaluate(db.session.get(PolicyMeasure, measures[5]),
                                   eligibility.facts_for(db.session.get(Organization, org)))
        assert fit.verdict == "possible"
        size = next(c for c in fit.checks if c.fact == "size_class")
        assert size.status == "unknown" and size.source == "profile"


def test_a_large_firm_does_not_qualify_for_the_small_firm_subsidy(app, make, measures):
    org, _ = _firm(app, make, size_class="large")
    with app.test_request_context():
        fit = eligibility.evaluate(db.session.get(PolicyMeasure, measures[5]),
                                   eligibility.facts_for(db.session.get(Organization, org)))
        assert fit.verdict == "unlikely"


def test_questionnaire_answers_change_the_matches(app, make, measures):
    org, email = _firm(app, make)
    client = _as(app, email)
    assert client.post("/policies/questionnaire", data={"org": org, "rd_spending": "yes",
                                                        "epidemic_response": "no"}).status_code == 302
    with app.app_context():
        answers = eligibility.answers_of(db.session.get(Organization, org))
    assert answers == {"rd_spending": "yes", "epidemic_response": "no"}
    page = client.get("/policies/matches").get_data(as_text=True)
    assert 'data-measure="5"' in page


def test_filing_for_measures_2_4_7_gets_the_notices_title_and_reaches_each_office(app, make, measures):
    org, email = _firm(app, make)
    response = _as(app, email).post("/policies/filings/new", data={**FILING, "org": org})
    assert response.status_code == 302
    with app.app_context():
        filing = db.session.scalar(select(PolicyFiling).where(PolicyFiling.organization_id == org))
        assert filing.title.endswith(" 火眼公司（第2、4、7条）")
        assert len(filing.title.split(" ")[0]) == 8 and filing.title[:8].isdigit()
        offices = {p.measure_number: p.office.code for p in filing.parts}
        assert offices == {2: "industry", 4: "procurement", 7: "startup"}
        assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "policy")) == 1


@pytest.mark.parametrize("change", [
    {"measures": []}, {"measures": ["99"]}, {"measures": ["99999999999999999999"]}, {"measures": ["²"]},
    {"project_name": ""}, {"direction": "D9"}, {"contact_phone": ""},
])
def test_malformed_filings_are_refused_and_create_nothing(app, make, measures, change):
    org, email = _firm(app, make)
    response = _as(app, email).post("/policies/filings/new", data={**FILING, "org": org, **change})
    assert response.status_code == 200
    assert "is-invalid" in response.get_data(as_text=True) or "invalid-feedback" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(PolicyFiling.id))) == 0


def test_filing_without_a_short_name_says_where_to_add_it(app, make, measures):
    org, email = _firm(app, make, short_name="")
    response = _as(app, email).post("/policies/filings/new", data={**FILING, "org": org})
    assert response.status_code == 200 and 'id="short-name-missing"' in response.get_data(as_text=True)


def _filed(app, make, measures):
    org, email = _firm(app, make)
    assert _as(app, email).post("/policies/filings/new", data={**FILING, "org": org}).status_code == 302
    with app.app_context():
        filing = db.session.scalar(select(PolicyFiling).where(PolicyFiling.organization_id == org))
        return filing.id, {p.measure_number: p.id for p in filing.parts}, email


def test_each_office_reviews_only_its_part_and_the_firm_sees_the_outcome(app, make, measures):
    filing_id, parts, firm_email = _filed(app, make, measures)
    startup = _office_staff(app, make, "startup")
    industry = _office_staff(app, make, "industry")
    assert startup.post(f"/policies/parts/{parts[7]}/review",
                        data={"status": "supported", "amount_rmb": "150000", "note": ""}).status_code == 302
    assert industry.post(f"/policies/parts/{parts[2]}/review",
                         data={"status": "declined", "note": "不属于第三方平台"}).status_code == 302
    # The startup office cannot decide the industry office's part.
    startup.post(f"/policies/parts/{parts[4]}/review", data={"status": "supported", "amount_rmb": "1"})
    with app.app_context():
        statuses = {p.measure_number: (p.status, p.amount_rmb) for p in db.session.scalars(
            select(PolicyFilingPart).where(PolicyFilingPart.filing_id == filing_id))}
    assert statuses[7][0] == "supported" and int(statuses[7][1]) == 150000
    assert statuses[2][0] == "declined" and statuses[4][0] == "received"
    page = _as(app, firm_email).get(f"/policies/filings/{filing_id}").get_data(as_text=True)
    assert "不属于第三方平台" in page and "15 万元" in page


def test_a_decided_part_cannot_be_decided_again_and_a_decline_needs_a_reason(app, make, measures):
    _filing_id, parts, _ = _filed(app, make, measures)
    startup = _office_staff(app, make, "startup")
    startup.post(f"/policies/parts/{parts[7]}/review", data={"status": "declined", "note": ""})
    startup.post(f"/policies/parts/{parts[7]}/review", data={"status": "supported", "amount_rmb": "5"})
    startup.post(f"/policies/parts/{parts[7]}/review", data={"status": "declined", "note": "预算已用完"})
    with app.app_context():
        part = db.session.get(PolicyFilingPart, parts[7])
        assert (part.status, part.amount_rmb) == ("supported", 5)


def test_filings_stay_private_to_the_firm_its_offices_and_operators(app, make, measures):
    filing_id, _parts, _ = _filed(app, make, measures)
    _other_org, _u, other_email = make.member("firm")
    assert _as(app, other_email).get(f"/policies/filings/{filing_id}").status_code == 404
    assert _office_staff(app, make, "finance").get(f"/policies/filings/{filing_id}").status_code == 404
    assert _office_staff(app, make, "procurement").get(f"/policies/filings/{filing_id}").status_code == 200
    assert app.test_client().get(f"/policies/filings/{filing_id}").status_code in (302, 401)
    _uid, operator_email = make.staff("operator")
    assert _as(app, operator_email).get(f"/policies/filings/{filing_id}").status_code == 200


def test_operators_edit_a_measure_and_its_history_is_kept(app, make, measures):
    _uid, operator_email = make.staff("operator")
    operator = _as(app, operator_email)
    with app.app_context():
        data = catalogue.snapshot(db.session.get(PolicyMeasure, measures[5]))
    data.update(title_zh="支持小微企业研发（修订）", conditions='[{"fact": "size_class", "op": "in", "value": ["micro"]}]',
                max_amount_rmb="300000", valid_until="", status="active")
    assert operator.post(f"/policies/{measures[5]}/edit", data=data).status_code == 302
    bad = dict(data, conditions='[{"fact": "nonsense", "op": "is"}]', title_zh="不应保存")
    assert operator.post(f"/policies/{measures[5]}/edit", data=bad).status_code == 200
    with app.app_context():
        measure = db.session.get(PolicyMeasure, measures[5])
        assert measure.title_zh == "支持小微企业研发（修订）" and measure.version == 2
        revision = db.session.scalar(select(PolicyMeasureRevision).where(PolicyMeasureRevision.measure_id == measure.id))
        assert revision.version == 1 and revision.snapshot["title_zh"] == "支持小微企业开展抗疫新技术、新产品研发"
    _org, _u, member_email = make.member("firm")
    assert _as(app, member_email).get(f"/policies/{measures[5]}/edit").status_code == 404


def test_public_catalogue_search_and_figures(app, make, measures):
    client = app.test_client()
    page = client.get("/policies/").get_data(as_text=True)
    assert "研发费用补贴" in page
    found = client.get("/policies/", query_string={"q": "担保费"}).get_data(as_text=True)
    assert "加大金融支持" in found and "概念验证" not in found
    filing_id, parts, _ = _filed(app, make, measures)
    _office_staff(app, make, "startup").post(f"/policies/parts/{parts[7]}/review",
                                             data={"status": "supported", "amount_rmb": "200000"})
    figures = client.get("/policies/figures").get_data(as_text=True)
    assert "20 万元" in figures
    assert client.get(f"/policies/{measures[5]}").status_code == 200


def test_filings_export_as_excel(app, make, measures):
    from openpyxl import load_workbook
    from io import BytesIO
    _filing_id, _parts, email = _filed(app, make, measures)
    response = _as(app, email).get("/policies/filings.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 4 and rows[1][0].endswith("火眼公司（第2、4、7条）")


def test_programme_figures_are_counted_from_entries_and_supported_filings(app, make, measures):
    from marketplace.models import FundingProgramme, ProgrammeEntry
    client = app.test_client()
    assert "0 笔贷款" in client.get("/policies/programmes").get_data(as_text=True)
    _uid, operator_email = make.staff("operator")
    operator = _as(app, operator_email)
    with app.app_context():
        codes = dict(db.session.execute(select(FundingProgramme.code, FundingProgramme.id)).all())
    loans = codes["epidemic-loans"]
    for amount in ("5000000", "4320000"):
        assert operator.post(f"/policies/programmes/{loans}/entries",
                             data={"amount_rmb": amount, "granted_on": "2020-04-23"}).status_code == 302
    operator.post(f"/policies/programmes/{loans}/entries", data={"amount_rmb": "-3"})
    operator.post(f"/policies/programmes/{loans}/entries", data={"amount_rmb": "1", "organization_id": "99999999"})
    _org, _u, member_email = make.member("firm")
    assert _as(app, member_email).post(f"/policies/programmes/{loans}/entries",
                                       data={"amount_rmb": "1"}).status_code == 404
    # A supported part under measure 5 counts in the R&D subsidy programme by itself, once.
    org, email = _firm(app, make)
    assert _as(app, email).post("/policies/filings/new", data={**FILING, "org": org, "measures": ["5"]}).status_code == 302
    with app.app_context():
        part_id = db.session.scalar(select(PolicyFilingPart.id).where(PolicyFilingPart.measure_number == 5))
    startup = _office_staff(app, make, "startup")
    startup.post(f"/policies/parts/{part_id}/review", data={"status": "supported", "amount_rmb": "180000"})
    startup.post(f"/policies/parts/{part_id}/review", data={"status": "supported", "amount_rmb": "180000"})
    with app.app_context():
        entries = {code: sorted(int(a) for a in db.session.scalars(select(ProgrammeEntry.amount_rmb).where(
            ProgrammeEntry.programme_id == pid))) for code, pid in codes.items()}
    assert entries == {"epidemic-loans": [4320000, 5000000], "venture-action": [], "rd-subsidy": [180000]}
    page = client.get("/policies/programmes").get_data(as_text=True)
    assert "2 笔贷款" in page and "932 万元" in page and "1 笔补贴" in page

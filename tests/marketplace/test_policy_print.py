"""The printable filing record: the notice's title, the claimed measures and each office's decision, laid out for
paper with the "Save as PDF" instructions; only those who may see the filing open it."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Organization, PolicyFiling, PolicyFilingPart, PolicyMeasure
from marketplace.services.policy import catalogue
from tests.conftest import login


def _as(app, email):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def test_the_printable_record_shows_the_title_measures_and_decisions(app, make):
    org, _user, email = make.member("firm")
    with app.app_context():
        catalogue.load_reference(db.session)
        db.session.get(Organization, org).short_name = "火眼公司"
        measures = {m.number: m for m in db.session.scalars(select(PolicyMeasure))}
        filing = PolicyFiling(organization_id=org, title="20200206 火眼公司（第2、7条）", project_name="核酸检测试剂盒",
                              direction="D1", description="一周内完成研发", contact_name="王工",
                              contact_phone="010-88880000", filed_on=date(2020, 2, 6))
        filing.parts.append(PolicyFilingPart(measure_id=measures[2].id, measure_number=2, status="received"))
        filing.parts.append(PolicyFilingPart(measure_id=measures[7].id, measure_number=7, status="supported",
                                             amount_rmb=Decimal(150000), note="同意支持"))
        db.session.add(filing)
        db.session.commit()
        filing_id = filing.id
    firm = _as(app, email)
    assert f"/policies/filings/{filing_id}/print" in firm.get(f"/policies/filings/{filing_id}").get_data(as_text=True)
    page = firm.get(f"/policies/filings/{filing_id}/print").get_data(as_text=True)
    assert "20200206 火眼公司（第2、7条）" in page and 'id="print-help"' in page and "print-record.css" in page
    assert page.count("data-measure=") == 2 and "同意支持" in page and "（火眼公司）" in page
    assert app.test_client().get("/static/css/print-record.css").status_code == 200
    _o, _u, stranger = make.member("firm")
    assert _as(app, stranger).get(f"/policies/filings/{filing_id}/print").status_code == 404
    assert _as(app, stranger).get("/policies/filings/99999999/print").status_code == 404

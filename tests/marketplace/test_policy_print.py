"""The printable filing record: the notice's title, the claimed measures and each office's decision, laid out for
paper with the "Save as PDF" instructions; only those who may see the filing open it."""
from __future__ import annotations

import base64
import re
import zlib
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


def _pdf_literal(raw: bytes) -> bytes:
    """The bytes of a PDF literal string (backslash escapes: octal codes and escaped characters)."""
    out, i = bytearray(), 0
    while i < len(raw):
        if raw[i:i + 1] == b"\\":
            octal = re.match(rb"[0-7]{1,3}", raw[i + 1:i + 4])
            if octal:
                out.append(int(octal.group(), 8) & 0xFF)
                i += 1 + len(octal.group())
                continue
            out += {b"n": b"\n", b"r": b"\r", b"t": b"\t"}.get(raw[i + 1:i + 2], raw[i + 1:i + 2])
            i += 2
            continue
        out += raw[i:i + 1]
        i += 1
    return bytes(out)


def _pdf_text(data: bytes) -> str:
    """The text a PDF shows, read back from its content streams (ASCII85 and Flate encoded; Chinese in the CID
    font is UCS-2)."""
    shown = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", data, flags=re.S):
        stream = stream.strip()
        try:
            stream = zlib.decompress(base64.a85decode(stream[:-2] if stream.endswith(b"~>") else stream))
        except (ValueError, zlib.error):
            continue
        for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", stream, flags=re.S):
            shown.append(_pdf_literal(literal).decode("utf-16-be", "replace"))
    return "".join(shown)


def test_the_record_downloads_as_a_pdf_with_its_title_and_decisions(app, make):
    org, _user, email = make.member("firm")
    with app.app_context():
        catalogue.load_reference(db.session)
        db.session.get(Organization, org).short_name = "火眼公司"
        measures = {m.number: m for m in db.session.scalars(select(PolicyMeasure))}
        filing = PolicyFiling(organization_id=org, title="20200206 火眼公司（第2、7条）", project_name="核酸检测试剂盒",
                              direction="D1", description="一周内完成研发", contact_name="王工",
                              contact_phone="010-88880000", filed_on=date(2020, 2, 6))
        filing.parts.append(PolicyFilingPart(measure_id=measures[7].id, measure_number=7, status="supported",
                                             amount_rmb=Decimal(150000), note="同意支持"))
        db.session.add(filing)
        db.session.commit()
        filing_id = filing.id
    firm = _as(app, email)
    assert f"/policies/filings/{filing_id}/record.pdf" in firm.get(
        f"/policies/filings/{filing_id}").get_data(as_text=True)
    r = firm.get(f"/policies/filings/{filing_id}/record.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    data = r.get_data()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    text = _pdf_text(data)
    assert "20200206 火眼公司（第2、7条）" in text
    assert "同意支持" in text and "核酸检测试剂盒" in text and "已支持" in text
    _o, _u, stranger = make.member("firm")
    assert _as(app, stranger).get(f"/policies/filings/{filing_id}/record.pdf").status_code == 404
    assert app.test_client().get(f"/policies/filings/{filing_id}/record.pdf").status_code == 302

"""Bulk import from Excel / CSV (templates, all-or-nothing validation, re-import) and exports."""
import csv
import html as html_lib
import io
import re
from datetime import date

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Batch, Need, Offer, Organization, PatentDetail
from tests.conftest import login
from tests.factories import valid_patent_number

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_file(rows: list[list], headers: list[str]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_file(rows: list[list], headers: list[str], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def upload(client, entity: str, content: bytes, filename: str, **form):
    data = {"entity": entity, "file": (io.BytesIO(content), filename), **form}
    return client.post("/transfer/import", data=data, content_type="multipart/form-data")


def report_of(html: str) -> dict[int, list[tuple[str, str]]]:
    """The row report as {row: [(column header, reason), ...]} (every problem of a row on its one line)."""
    table = html.split('id="import-report"')[1].split("</table>")[0]
    report = {}
    for row, cells in re.findall(r'<tr data-row="(\d+)">(.*?)</tr>', table, re.S):
        report[int(row)] = [(c, html_lib.unescape(r)) for c, r in re.findall(r"<li><strong>(.*?)</strong>: (.*?)</li>",
                                                                           cells)]
    return report


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


OFFER_HEADERS = ["external_id", "kind", "title_zh", "title_en", "summary_zh", "field_codes", "trl", "price_rmb",
                 "regulatory_statuses"]


def offer_rows(n: int) -> list[list]:
    return [[f"P-{i}", "product", f"检测试剂盒{i}", f"Test kit {i}", "荧光PCR法", "D1.virus_detection", 9, 25.5,
             "nmpa, ce"] for i in range(1, n + 1)]


def test_templates_download_and_reimport_cleanly(client, make, app):
    org, _, email = make.member("firm")
    login(client, email)
    for entity in ("offers", "needs", "patents"):
        r = client.get(f"/transfer/template/{entity}.xlsx")
        assert r.status_code == 200 and r.mimetype == XLSX
        assert "attachment" in r.headers["Content-Disposition"]
        workbook = load_workbook(io.BytesIO(r.data))
        assert workbook.sheetnames == ["data", "example", "lists"] and workbook["lists"].sheet_state == "hidden"
        headers = [c.value for c in workbook["data"][1]]
        # people see headers in their language (Chinese by default), never the internal keys
        assert "外部编号" in headers and not {"title_zh", "external_id", "org_uscc"} & set(headers)
        assert " / " in workbook["data"]["A2"].value  # bilingual description row
        assert workbook["example"].max_row == 3
        r = client.get(f"/transfer/template/{entity}.csv")
        assert r.status_code == 200 and r.data.startswith(b"\xef\xbb\xbf")
        assert r.get_data(as_text=True).lstrip("\ufeff").splitlines()[0].split(",")[0] == "外部编号"

    # The example sheet, copied into the data sheet, imports; the empty template imports nothing, without errors.
    template = load_workbook(io.BytesIO(client.get("/transfer/template/offers.xlsx").data))
    example = [c.value for c in template["example"][3]]
    r = upload(client, "offers", client.get("/transfer/template/offers.xlsx").data, "offers.xlsx")
    assert r.status_code == 200 and count(app, Offer) == 0
    template["data"].append(example)
    out = io.BytesIO()
    template.save(out)
    r = upload(client, "offers", out.getvalue(), "offers.xlsx")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert count(app, Offer) == 1

    patent_template = load_workbook(io.BytesIO(client.get("/transfer/template/patents.xlsx").data))
    patent_template["data"].append([c.value for c in patent_template["example"][3]])
    out = io.BytesIO()
    patent_template.save(out)
    assert upload(client, "patents", out.getvalue(), "patents.xlsx").status_code == 200
    need_csv = client.get("/transfer/template/needs.csv").data + "\r\n,,,procurement,采购CT,,,,,,2,台".encode()
    r = upload(client, "needs", need_csv, "needs.csv")
    assert r.status_code == 200, r.get_data(as_text=True)
    assert count(app, PatentDetail) == 1 and count(app, Need) == 1


def test_valid_xlsx_imports_all_rows_as_drafts_and_reimport_updates(client, make, app):
    org, _, email = make.member("firm")
    login(client, email)
    content = xlsx_file(offer_rows(5), OFFER_HEADERS)
    r = upload(client, "offers", content, "offers.xlsx")
    assert r.status_code == 200
    with app.app_context():
        offers = list(db.session.scalars(select(Offer).order_by(Offer.id)))
        assert len(offers) == 5
        assert {o.status for o in offers} == {"draft"} and {o.organization_id for o in offers} == {org}
        assert offers[0].regulatory_statuses == ["nmpa", "ce"] and offers[0].trl == 9
        assert [f.code for f in offers[0].fields] == ["D1.virus_detection"]
        assert all(o.import_key and len(o.import_key) <= 64 for o in offers)
    # Same file again: nothing new; a changed cell updates the existing record.
    rows = offer_rows(5)
    rows[0][3] = "Test kit 1, improved"
    r = upload(client, "offers", xlsx_file(rows, OFFER_HEADERS), "offers.xlsx")
    assert r.status_code == 200
    client.get("/lang/en")
    r = upload(client, "offers", content, "offers.xlsx")
    assert "0 created, 5 updated" in r.get_data(as_text=True)
    assert count(app, Offer) == 5


def test_reimport_without_external_id_matches_by_title(client, make, app):
    org, _, email = make.member("firm")
    login(client, email)
    headers = ["kind", "title_zh", "summary_zh"]
    content = xlsx_file([["service", "第三方检测服务", "CNAS实验室"], ["technology", "AI肺炎筛查", "CT影像"]], headers)
    assert upload(client, "offers", content, "a.xlsx").status_code == 200
    content = xlsx_file([["service", " 第三方检测服务 ", "CNAS实验室（更新）"], ["technology", "AI肺炎筛查", "CT影像"]],
                        headers)
    assert upload(client, "offers", content, "a.xlsx").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count(Offer.id))) == 2
        assert db.session.scalar(select(Offer.summary_zh).where(Offer.kind == "service")) == "CNAS实验室（更新）"


def test_malformed_spreadsheet_reports_every_row_and_imports_nothing(client, make, app):
    org, _, email = make.member("university")
    login(client, email)
    client.get("/lang/en")
    good = valid_patent_number(77)
    bad_number = good[:-1] + ("0" if good[-1] != "0" else "1")
    headers = ["external_id", "application_number", "title_zh", "summary_zh", "field_codes", "claims_count",
               "legal_status"]
    rows = [
        ["A", good, "一种检测方法", "摘要", "D1.ivd", 10, "granted"],            # row 2: fine
        ["B", valid_patent_number(78), "", "摘要", "D1.ivd", 5, "granted"],     # row 3: missing title
        ["C", valid_patent_number(79), "呼吸机", "摘要", "D1.ivd", "many", "granted"],  # row 4: bad number
        ["D", bad_number, "测温", "摘要", "D1.ivd", 3, "granted"],               # row 5: bad patent number
        ["E", valid_patent_number(80), "口罩", "摘要", "X9.nothing", 3, "granted"],  # row 6: unknown field code
    ]
    r = upload(client, "patents", xlsx_file(rows, headers), "patents.xlsx")
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "Nothing was imported" in html
    report = report_of(html)
    assert report[3] == [("Patent title (Chinese)", "Give a title in Chinese or English.")]
    assert report[4] == [("Number of claims", "Enter a whole number.")]
    assert report[5][0][0] == "Application number"
    assert report[5][0][1].startswith("Not a valid Chinese patent application number")
    assert report[6] == [("Field codes", "Unknown field code: X9.nothing.")]
    assert 2 not in report
    assert count(app, Offer) == 0 and count(app, PatentDetail) == 0

    # Offers: bad numbers and an unknown kind; the valid rows are not kept either.
    rows = offer_rows(3)
    rows[1][7] = "abc"
    rows[2][1] = "spaceship"
    r = upload(client, "offers", xlsx_file(rows, OFFER_HEADERS), "offers.xlsx")
    report = report_of(r.get_data(as_text=True))
    assert report[3] == [("Price (RMB)", "Enter a number.")]
    assert report[4] == [("Kind", "Not a valid choice: spaceship.")]
    assert count(app, Offer) == 0


def test_report_is_in_chinese_by_default(client, make, app):
    org, _, email = make.member("firm")
    login(client, email)
    r = upload(client, "offers", xlsx_file([["product", "", "摘要"]], ["kind", "title_zh", "summary_zh"]), "x.xlsx")
    assert r.status_code == 400 and report_of(r.get_data(as_text=True))[2] == [("标题（中文）", "请用中文或英文填写标题。")]
    assert count(app, Offer) == 0


def test_duplicate_rows_in_one_file_are_reported(client, make, app):
    org, _, email = make.member("firm")
    login(client, email)
    client.get("/lang/en")
    rows = offer_rows(2) + [offer_rows(1)[0]]
    r = upload(client, "offers", xlsx_file(rows, OFFER_HEADERS), "dup.xlsx")
    assert r.status_code == 400
    assert "This row repeats row 2." in r.get_data(as_text=True)
    assert count(app, Offer) == 0


def test_patents_dedupe_by_application_number(client, make, app):
    org, _, email = make.member("university")
    login(client, email)
    number = valid_patent_number(55)
    headers = ["application_number", "title_zh", "summary_zh", "citations"]
    assert upload(client, "patents", xlsx_file([[number, "一种方法", "摘要", 3]], headers), "p.xlsx").status_code == 200
    # Another title (so another import key) but the same number: the patent is updated, not duplicated.
    r = upload(client, "patents", xlsx_file([[number.replace(".", ""), "一种改进方法", "摘要", 9]], headers), "p.xlsx")
    assert r.status_code == 200, r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(PatentDetail.offer_id))) == 1
        detail = db.session.scalar(select(PatentDetail))
        assert detail.citations == 9 and detail.offer.title_zh == "一种改进方法"
        assert detail.curation_stage == "screened" and detail.value_score is not None
    # Another organisation may not take it over, and is not told that a draft with this number exists.
    other, _, other_email = make.member("university")
    client.post("/logout")
    login(client, other_email)
    client.get("/lang/en")
    r = upload(client, "patents", xlsx_file([[number, "抢注", "摘要", 1]], headers), "p.xlsx")
    body = r.get_data(as_text=True)
    assert r.status_code == 400 and "cannot be registered" in body and "already listed" not in body


def test_csv_with_bom_and_gbk(client, make, app):
    org, _, email = make.member("hospital")
    login(client, email)
    headers = ["kind", "title_zh", "quantity", "budget_max_rmb", "deadline", "urgency"]
    content = csv_file([["procurement", "采购呼吸机", "10", "2000000", "2026-06-30", "critical"]], headers)
    assert content.startswith(b"\xef\xbb\xbf")
    assert upload(client, "needs", content, "needs.csv").status_code == 200
    content = csv_file([["testing_lab", "核酸检测实验室合作", "", "", "", "high"]], headers, encoding="gbk")
    assert upload(client, "needs", content, "needs.csv").status_code == 200
    with app.app_context():
        needs = {n.title_zh: n for n in db.session.scalars(select(Need))}
        assert set(needs) == {"采购呼吸机", "核酸检测实验室合作"}
        assert needs["采购呼吸机"].quantity == 10 and needs["采购呼吸机"].organization_id == org


def test_bad_files_get_clear_messages(client, make, app):
    org, _, email = make.member("firm")
    login(client, email)
    client.get("/lang/en")
    cases = [
        (b"%PDF-1.4 not a sheet", "offers.pdf", "Upload an Excel (.xlsx) or CSV (.csv) file."),
        (b"PK\x03\x04 broken zip", "offers.xlsx", "not a valid Excel (.xlsx) workbook"),
        (b"\x00\x01\x02garbage", "offers.csv", "not a CSV text file"),
        (b"", "offers.csv", "The file is empty."),
        (csv_file([], ["kind", "titel_zh"]), "offers.csv", "Unknown column"),
    ]
    for content, filename, message in cases:
        r = upload(client, "offers", content, filename)
        assert r.status_code == 400 and message in r.get_data(as_text=True), filename
    many = csv_file([["product", f"产品{i}", "摘要"] for i in range(2001)], ["kind", "title_zh", "summary_zh"])
    r = upload(client, "offers", many, "many.csv")
    assert r.status_code == 400 and "more than 2000 rows" in r.get_data(as_text=True)
    assert count(app, Offer) == 0


def test_members_import_only_into_their_own_organisations(client, make, app):
    org, _, email = make.member("firm")
    other = make.org("firm")
    login(client, email)
    client.get("/lang/en")
    r = upload(client, "offers", xlsx_file([["product", "产品", "摘要", other]],
                                           ["kind", "title_zh", "summary_zh", "organization_id"]), "x.xlsx")
    assert r.status_code == 400 and "You are not a member of this organisation." in r.get_data(as_text=True)
    r = upload(client, "offers", xlsx_file([["product", "产品", "摘要"]], ["kind", "title_zh", "summary_zh"]),
               "x.xlsx", organization_id=str(other))
    assert r.status_code == 400
    assert count(app, Offer) == 0


def test_staff_import_for_any_organisation_by_credit_code(client, make, app):
    org = make.org("university")
    uscc = make.get(Organization, org)["uscc"]
    _, email = make.staff()
    login(client, email)
    headers = ["org_uscc", "application_number", "title_zh", "summary_zh", "legal_status", "filing_date"]
    rows = [[uscc, valid_patent_number(i), f"专利{i}", "摘要", "granted", "2020-02-01"] for i in range(1, 4)]
    assert upload(client, "patents", xlsx_file(rows, headers), "p.xlsx").status_code == 200
    with app.app_context():
        details = list(db.session.scalars(select(PatentDetail)))
        assert len(details) == 3 and {d.offer.organization_id for d in details} == {org}
        assert {d.offer.status for d in details} == {"draft"} and {d.curation_stage for d in details} == {"screened"}
        assert all(d.value_score > 0 for d in details)


def test_import_page_needs_login_and_links_templates(client, make):
    assert client.get("/transfer/import").status_code == 302
    org, _, email = make.member("firm")
    login(client, email)
    html = client.get("/transfer/import").get_data(as_text=True)
    assert 'name="csrf_token"' in html and "/transfer/template/patents.xlsx" in html
    assert "/transfer/template/needs.csv" in html


def read_export(response) -> list[list]:
    if response.mimetype == XLSX:
        return [list(r) for r in load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True)]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_exports_contain_only_visible_rows(client, make, app):
    mine, _, email = make.member("firm")
    other = make.org("firm")
    make.offer(mine, title_zh="我的草稿", status="draft")
    make.offer(other, title_zh="别人的草稿", status="draft")
    make.offer(other, title_zh="别人的公开产品", status="published")
    make.offer(other, title_zh="保密产品", status="published", visibility="confidential")
    make.need(other, title_zh="别人的需求草稿", status="draft")
    make.need(other, title_zh="别人的公开需求")
    login(client, email)
    for fmt in ("xlsx", "csv"):
        r = client.get(f"/transfer/export/offers.{fmt}")
        assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
        rows = read_export(r)
        assert rows[0][0] == "编号 / ID"
        titles = {row[3] for row in rows[1:]}
        assert titles == {"别人的公开产品"}
        # Members cannot widen the status filter; staff can.
        titles = {row[3] for row in read_export(client.get(f"/transfer/export/offers.{fmt}?status=draft"))[1:]}
        assert "别人的草稿" not in titles
        rows = read_export(client.get(f"/transfer/export/needs.{fmt}"))
        assert {row[3] for row in rows[1:]} == {"别人的公开需求"}
    client.post("/logout")
    _, staff_email = make.staff()
    login(client, staff_email)
    titles = {row[3] for row in read_export(client.get("/transfer/export/offers.csv?status=draft"))[1:]}
    assert titles == {"我的草稿", "别人的草稿"}


def test_export_filters_like_the_catalogue(client, make, app):
    org = make.org("firm")
    make.offer(org, kind="product", title_zh="产品A", field_codes=("D1.ivd",))
    make.offer(org, kind="technology", title_zh="技术B", field_codes=("D2.ai_diagnosis",))
    rows = read_export(client.get("/transfer/export/offers.xlsx?kind=technology"))
    assert [r[3] for r in rows[1:]] == ["技术B"]
    rows = read_export(client.get("/transfer/export/offers.xlsx?field=D1"))
    assert [r[3] for r in rows[1:]] == ["产品A"]
    rows = read_export(client.get("/transfer/export/offers.xlsx?direction=D2"))
    assert [r[3] for r in rows[1:]] == ["技术B"]
    rows = read_export(client.get("/transfer/export/offers.xlsx?kind=technology&kind=product"))
    assert {r[3] for r in rows[1:]} == {"产品A", "技术B"}
    rows = read_export(client.get("/transfer/export/offers.xlsx?field=NO.such"))
    assert rows[1:] == []


def test_formula_injection_is_neutralised(client, make, app):
    org = make.org("firm")
    make.offer(org, title_zh="=HYPERLINK(\"http://evil\",\"x\")", title_en="+1+2", summary_zh="@SUM(A1)",
               summary_en="-2+3")
    for fmt in ("xlsx", "csv"):
        row = read_export(client.get(f"/transfer/export/offers.{fmt}"))[1]
        assert row[3] == "'=HYPERLINK(\"http://evil\",\"x\")"
        assert row[4] == "'+1+2" and row[5] == "'@SUM(A1)" and row[6] == "'-2+3"
    workbook = load_workbook(io.BytesIO(client.get("/transfer/export/offers.xlsx").data))
    assert workbook.active["D2"].data_type == "s"


def test_batch_export_and_unknown_batch(client, make, app):
    org = make.org("firm")
    with app.app_context():
        batch = Batch(number=3, kind="regular", title_zh="第三批", published_on=date(2020, 3, 1))
        db.session.add(batch)
        db.session.commit()
        batch_id = batch.id
    make.offer(org, title_zh="批次产品", batch_id=batch_id)
    make.offer(org, title_zh="批次外产品")
    rows = read_export(client.get("/transfer/export/batch/3.csv"))
    assert [r[3] for r in rows[1:]] == ["批次产品"]
    assert client.get("/transfer/export/batch/99.xlsx").status_code == 404
    rows = read_export(client.get("/transfer/export/offers.csv?batch=3"))
    assert [r[3] for r in rows[1:]] == ["批次产品"]

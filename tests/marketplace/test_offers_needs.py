"""Drafting offers per kind and posting needs, with server-side validation."""
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Need, Offer, PatentDetail
from tests.conftest import login
from tests.factories import valid_patent_number


def test_create_product_draft_and_submit(client, make, app):
    org, _, email = make.member("firm")
    login(client, email)
    r = client.post("/offers/new?kind=product", data={
        "title_zh": "核酸检测试剂盒", "summary_zh": "荧光PCR法", "tags": "核酸检测，PCR", "trl": "9",
        "regulatory_statuses": ["nmpa", "ce"], "field_codes": ["D1.virus_detection"], "price_rmb": "25.5",
        "action": "submit"})
    assert r.status_code == 302
    with app.app_context():
        offer = db.session.scalar(select(Offer))
        assert offer.status == "submitted" and offer.tags == ["核酸检测", "PCR"]
        assert offer.regulatory_statuses == ["nmpa", "ce"] and [f.code for f in offer.fields] == ["D1.virus_detection"]


def test_offer_form_errors_are_reported_and_nothing_saved(client, make, app):
    org, _, email = make.member("firm")
    login(client, email)
    r = client.post("/offers/new?kind=product", data={"title_zh": "", "summary_zh": "", "trl": "12",
                                                      "price_rmb": "abc", "regulatory_statuses": ["bogus"]})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "请用中文或英文填写标题" in html and "请输入数字" in html
    with app.app_context():
        assert db.session.scalar(select(func.count(Offer.id))) == 0


def test_patent_offer_validates_application_number(client, make, app):
    org, _, email = make.member("university")
    login(client, email)
    good = valid_patent_number(4242)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    r = client.post("/offers/new?kind=patent", data={"title_zh": "一种检测方法", "summary_zh": "摘要",
                                                     "application_number": bad})
    assert r.status_code == 400 and "校验位" in r.get_data(as_text=True)
    r = client.post("/offers/new?kind=patent", data={"title_zh": "一种检测方法", "summary_zh": "摘要",
                                                     "application_number": good.replace(".", ""),
                                                     "legal_status": "granted", "ipc_classes": "C12Q1/68"})
    assert r.status_code == 302
    with app.app_context():
        detail = db.session.scalar(select(PatentDetail))
        assert detail.application_number == good and detail.ipc_classes == ["C12Q1/68"]


def test_financial_offer_range_check(client, make, app):
    org, _, email = make.member("bank")
    login(client, email)
    r = client.post("/offers/new?kind=financial", data={
        "title_zh": "抗疫贷", "summary_zh": "低息", "product_type": "loan", "amount_min_rmb": "5000000",
        "amount_max_rmb": "100", "rate_min_pct": "2.05"})
    assert r.status_code == 400
    assert "最大值不能小于最小值" in r.get_data(as_text=True)


def test_member_without_organisation_is_sent_to_dashboard(client, make):
    make.user("lonely@example.com")
    login(client, "lonely@example.com")
    assert client.get("/offers/new").status_code == 302


def test_post_edit_and_close_need(client, make, app):
    org, _, email = make.member("hospital")
    login(client, email)
    r = client.post("/needs/new?kind=procurement", data={
        "title_zh": "采购CT", "description_zh": "发热门诊", "quantity": "2", "budget_min_rmb": "100",
        "budget_max_rmb": "5000000", "deadline": "2026-12-31", "required_certifications": ["nmpa"],
        "urgency": "high"})
    assert r.status_code == 302
    with app.app_context():
        need = db.session.scalar(select(Need))
        need_id = need.id
        assert need.status == "open" and need.required_certifications == ["nmpa"]
    r = client.post(f"/needs/{need_id}/edit", data={"title_zh": "采购移动CT", "quantity": "0"})
    assert r.status_code == 400
    assert make.get(Need, need_id)["title_zh"] == "采购CT"
    assert "我的需求".encode() in client.get("/needs/mine").data
    client.post(f"/needs/{need_id}/close", data={"reason": "已采购"})
    assert make.get(Need, need_id)["status"] == "closed"


def test_need_bad_date_and_budget(client, make):
    org, _, email = make.member("hospital")
    login(client, email)
    r = client.post("/needs/new?kind=procurement", data={"title_zh": "x", "deadline": "31/31/2020",
                                                         "budget_min_rmb": "9", "budget_max_rmb": "1"})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "YYYY-MM-DD" in html


def test_english_error_messages(client, make):
    org, _, email = make.member("hospital")
    login(client, email)
    client.get("/lang/en")
    r = client.post("/needs/new?kind=procurement", data={"title_zh": "", "title_en": ""})
    assert "Give a title in Chinese or English." in r.get_data(as_text=True)

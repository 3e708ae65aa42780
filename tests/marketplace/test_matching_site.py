"""Matching in the site: suggestions on need and offer pages, feedback, broker queue, incremental ranking."""
from decimal import Decimal

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import FinancialDetail, MatchFeedback, MatchSuggestion, Offer
from tests.conftest import login


def _catalogue(make):
    maker = make.org("firm", name="呼吸机制造商")
    bank = make.org("bank", name="科技银行")
    ventilator = make.offer(maker, kind="product", title_zh="ICU有创呼吸机", title_en="ICU invasive ventilator",
                            summary_zh="重症病房有创呼吸机，已获注册证", tags=["呼吸机", "ventilator"],
                            field_codes=("D1.ventilators",), regulatory_statuses=["nmpa"])
    masks = make.offer(maker, kind="product", title_zh="医用防护口罩", summary_zh="N95口罩",
                       tags=["口罩"], field_codes=("D1.protection",))
    loan = make.offer(bank, kind="financial", title_zh="防疫专项贷款", title_en="Epidemic loan",
                      summary_zh="面向防疫企业的流动资金贷款，利率低", tags=["贷款", "流动资金"])
    with make.app.app_context():
        db.session.get(Offer, loan).financial = FinancialDetail(product_type="loan", rate_min_pct=2.05,
                                                                amount_max_rmb=Decimal(5_000_000))
        db.session.commit()
    return ventilator, masks, loan


def _rebuild(app):
    with app.app_context():
        from marketplace.tasks import matching
        return matching.rebuild()


def test_need_page_shows_ranked_offers_with_reasons(app, client, make):
    ventilator, masks, _ = _catalogue(make)
    hospital, _, email = make.member("hospital")
    need = make.need(hospital, title_zh="采购ICU呼吸机", description_zh="重症病房需要有创呼吸机",
                     tags=["呼吸机"], required_certifications=["nmpa"])
    assert _rebuild(app)["needs"] == 1
    html = client.get(f"/needs/{need}").get_data(as_text=True)
    assert html.index("ICU有创呼吸机") < (html.index("医用防护口罩") if "医用防护口罩" in html else len(html))
    assert "score-bar" in html and "呼吸机" in html.split('id="matches"')[1]
    assert "具备所需认证" in html or "共同" in html  # reasons in Chinese
    client.get("/lang/en")
    reasons_en = client.get(f"/needs/{need}").get_data(as_text=True).split('match-reasons">')[1].split("</ul>")[0]
    assert any(word in reasons_en for word in ("shared", "same field", "certification")), reasons_en
    # the offer page lists the need it could answer
    client.get("/lang/zh")
    assert "采购ICU呼吸机" in client.get(f"/offers/{ventilator}").get_data(as_text=True)


def test_financing_need_matches_only_financial_products_and_shows_funders(app, client, make):
    _, _, loan = _catalogue(make)
    firm, _, email = make.member("firm")
    need = make.need(firm, kind="financing", title_zh="扩产流动资金贷款", description_zh="需要500万元流动资金贷款",
                     tags=["贷款"])
    _rebuild(app)
    with app.app_context():
        offers = {s.offer_id for s in db.session.scalars(select(MatchSuggestion).where(MatchSuggestion.need_id == need))}
    assert offers == {loan}
    login(client, email)
    assert "防疫专项贷款" in client.get("/account/").get_data(as_text=True).split('id="funders"')[1]


def test_feedback_is_recorded_and_only_by_the_need_side_or_brokers(app, client, make):
    ventilator, _, _ = _catalogue(make)
    hospital, _, email = make.member("hospital")
    _, _, stranger = make.member("firm")
    need = make.need(hospital, title_zh="采购呼吸机", tags=["呼吸机"])
    _rebuild(app)
    login(client, stranger)
    assert client.post(f"/matches/need/{need}/offer/{ventilator}", data={"decision": "accepted"}).status_code == 403
    client.post("/logout")
    login(client, email)
    r = client.post(f"/matches/need/{need}/offer/{ventilator}", data={"decision": "dismissed", "reason": "价格太高"})
    assert r.status_code == 302
    with app.app_context():
        fb = db.session.scalar(select(MatchFeedback))
        assert (fb.decision, fb.reason) == ("dismissed", "价格太高")
    r = client.post(f"/matches/need/{need}/offer/{ventilator}", data={"decision": "accepted"})
    with app.app_context():
        assert [f.decision for f in db.session.scalars(select(MatchFeedback))] == ["accepted"]


def test_broker_queue(app, client, make):
    _catalogue(make)
    hospital, _, member_email = make.member("hospital")
    make.need(hospital, title_zh="采购呼吸机", tags=["呼吸机"])
    _rebuild(app)
    login(client, member_email)
    assert client.get("/matches/queue").status_code == 403
    client.post("/logout")
    _, broker = make.staff("broker")
    login(client, broker)
    html = client.get("/matches/queue").get_data(as_text=True)
    assert "采购呼吸机" in html and "ICU有创呼吸机" in html


def test_new_need_is_ranked_without_refit(app, client, make):
    _catalogue(make)
    hospital, _, email = make.member("hospital")
    make.need(hospital, title_zh="采购口罩", tags=["口罩"])
    _rebuild(app)
    login(client, email)
    r = client.post("/needs/new?kind=procurement", data={"title_zh": "紧急采购有创呼吸机", "description_zh": "ICU",
                                                         "tags": "呼吸机"})
    assert r.status_code == 302
    need_id = int(r.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        ranked = list(db.session.scalars(select(MatchSuggestion).where(MatchSuggestion.need_id == need_id)
                                         .order_by(MatchSuggestion.rank)))
        assert ranked and ranked[0].offer.title_zh == "ICU有创呼吸机"


def test_confidential_need_matches_hidden_from_visitors(app, client, make):
    ventilator, _, _ = _catalogue(make)
    hospital, _, _ = make.member("hospital")
    make.need(hospital, title_zh="保密呼吸机需求", tags=["呼吸机"], visibility="confidential")
    _rebuild(app)
    assert "保密呼吸机需求" not in client.get(f"/offers/{ventilator}").get_data(as_text=True)

"""Matches people can trust, through the site: no self-pairs, near-duplicate groups, financing fit, the
certification rule, readable calibrated matches on need pages, the broker queue, the API and the funder page."""
from decimal import Decimal

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Field, FinancialDetail, MatchSuggestion, Need, Offer, Organization
from marketplace.settings import current_settings
from tests.conftest import login


def _rebuild(app):
    with app.app_context():
        from marketplace.tasks import matching
        return matching.rebuild()


def _suggested(app, need_id, leaders_only=False):
    with app.app_context():
        query = select(MatchSuggestion).where(MatchSuggestion.need_id == need_id).order_by(MatchSuggestion.rank)
        if leaders_only:
            query = query.where(MatchSuggestion.similar_to_offer_id.is_(None))
        return [(s.offer_id, s.strength, s.similar_to_offer_id, list(s.flags or [])) for s in db.session.scalars(query)]


def _financial(app, offer_id, **terms):
    with app.app_context():
        db.session.get(Offer, offer_id).financial = FinancialDetail(**terms)
        db.session.commit()


def test_a_firm_never_sees_its_own_offer_or_its_groups_as_a_match(app, client, make):
    firm = make.org("firm", name="甲医疗")
    sister = make.org("firm", name="甲医疗子公司", group_parent_id=firm)
    other = make.org("firm", name="乙医疗")
    own = make.offer(firm, title_zh="有创呼吸机", tags=["呼吸机"])
    sisters = make.offer(sister, title_zh="ICU有创呼吸机整机", tags=["呼吸机"])
    others = make.offer(other, title_zh="有创呼吸机整机", tags=["呼吸机"], summary_zh="重症呼吸机")
    need = make.need(firm, kind="manufacturing_supply", title_zh="寻找有创呼吸机配套", tags=["呼吸机"])
    _rebuild(app)
    offered = {offer for offer, *_ in _suggested(app, need)}
    assert own not in offered and sisters not in offered and others in offered
    _, broker = make.staff("broker")
    login(client, broker)
    queue = client.get("/matches/queue").get_data(as_text=True)
    assert "寻找有创呼吸机配套" in queue and "甲医疗子公司" not in queue


def test_variants_of_one_product_show_as_one_match_with_the_others_one_click_away(app, client, make):
    maker = make.org("firm", name="超声设备厂")
    base = "便携式彩色多普勒超声诊断仪"
    variants = [make.offer(maker, title_zh=base + suffix, summary_zh="床旁超声诊断，图像清晰", tags=["超声"])
                for suffix in ("", "云端版", "快速版", "第二代", "出口版")]
    other = make.offer(make.org("firm"), title_zh="医用超声耦合剂", summary_zh="超声检查用耦合剂", tags=["超声"])
    hospital, _, email = make.member("hospital")
    need = make.need(hospital, title_zh="采购便携式超声诊断仪", description_zh="床旁超声诊断", tags=["超声"])
    _rebuild(app)
    leaders = [offer for offer, _, similar_to, _ in _suggested(app, need) if similar_to is None]
    assert len(set(leaders) & set(variants)) == 1 and other in leaders
    html = client.get(f"/needs/{need}").get_data(as_text=True).split('id="match-list"')[1]
    assert html.count('class="list-group-item match-item"') == 2
    assert "+4 个相似" in html and 'class="match-similar' in html
    login(client, email)
    body = client.get(f"/api/v1/needs/{need}/matches").get_json()
    grouped = [item for item in body["items"] if item["similar_offer_ids"]]
    assert len(body["items"]) == 2 and len(grouped[0]["similar_offer_ids"]) == 4


def test_financing_need_is_matched_by_amount_term_and_eligibility_not_shared_words(app, client, make):
    bank = make.org("bank", name="科技银行")
    small_loan = make.offer(bank, kind="financial", title_zh="科创小额贷款", summary_zh="流动资金贷款，额度万元起",
                            tags=["贷款"], field_codes=())
    big_loan = make.offer(bank, kind="financial", title_zh="科创成长贷款", summary_zh="流动资金贷款，额度万元起",
                          tags=["贷款"], field_codes=())
    park_loan = make.offer(bank, kind="financial", title_zh="园区专属贷款", summary_zh="流动资金贷款，额度万元起",
                           tags=["贷款"], field_codes=())
    _financial(app, small_loan, product_type="loan", amount_min_rmb=Decimal(100_000), amount_max_rmb=Decimal(1_000_000))
    _financial(app, big_loan, product_type="loan", amount_min_rmb=Decimal(1_000_000),
               amount_max_rmb=Decimal(20_000_000), term_months_min=12, term_months_max=36, rate_min_pct=3.2)
    _financial(app, park_loan, product_type="loan", amount_max_rmb=Decimal(50_000_000), park_only=True)
    firm, _, email = make.member("firm")
    need = make.need(firm, kind="financing", title_zh="扩产流动资金贷款", description_zh="需要500万元流动资金贷款",
                     tags=["贷款"], budget_max_rmb=Decimal(5_000_000), term_months=24, max_rate_pct=4.0)
    _rebuild(app)
    assert [offer for offer, *_ in _suggested(app, need)] == [big_loan]
    login(client, email)
    html = client.get(f"/needs/{need}").get_data(as_text=True).split('id="match-list"')[1]
    assert "所需金额500万元在产品额度100万元–2,000万元以内" in html and "利率3.2%不高于可接受的4%" in html
    client.get("/lang/en")
    html = client.get(f"/needs/{need}").get_data(as_text=True).split('id="match-list"')[1]
    assert "term of 24 months within the product&#39;s 12–36 months" in html


def test_required_certification_is_a_hard_rule_with_a_visible_flag_when_allowed(app, client, make):
    maker = make.org("firm")
    certified = make.offer(maker, title_zh="医用外科口罩", tags=["口罩"], regulatory_statuses=["nmpa"],
                           field_codes=("D1.protection",))
    uncertified = make.offer(make.org("firm"), title_zh="一次性医用口罩", tags=["口罩"], field_codes=("D1.protection",))
    hospital, _, _ = make.member("hospital")
    strict = make.need(hospital, title_zh="采购医用口罩", tags=["口罩"], required_certifications=["nmpa"])
    lenient = make.need(hospital, title_zh="采购医用口罩（可接受无证）", tags=["口罩"], required_certifications=["nmpa"],
                        allow_uncertified=True)
    _rebuild(app)
    assert [offer for offer, *_ in _suggested(app, strict)] == [certified]
    flags = {offer: flags for offer, _, _, flags in _suggested(app, lenient)}
    assert flags == {certified: [], uncertified: ["not_certified"]}
    html = client.get(f"/needs/{lenient}").get_data(as_text=True)
    assert "未获认证" in html and "缺少所需认证：NMPA注册证（现有：无）" in html


def test_reasons_name_fields_and_certifications_and_skip_meaningless_terms(app, client, make):
    maker = make.org("firm")
    make.offer(maker, title_zh="ICU有创呼吸机", summary_zh="新冠重症病房有创呼吸机生产线 production", tags=["呼吸机"],
               regulatory_statuses=["nmpa"], field_codes=("D1.ventilators",))
    hospital, _, _ = make.member("hospital")
    need = make.need(hospital, title_zh="采购有创呼吸机", description_zh="新冠重症病房，需要呼吸机 production",
                     tags=["呼吸机"], required_certifications=["nmpa"])
    with app.app_context():
        db.session.get(Need, need).fields = [db.session.scalar(select(Field).where(Field.code == "D1.ventilators"))]
        db.session.commit()
        field_zh, field_en = db.session.execute(select(Field.name_zh, Field.name_en)
                                                .where(Field.code == "D1.ventilators")).one()
    _rebuild(app)
    matches = client.get(f"/needs/{need}").get_data(as_text=True).split('id="match-list"')[1]
    reasons = matches.split('match-reasons">')[1].split("</ul>")[0]
    assert "D1.ventilators" not in matches and "nmpa" not in matches
    assert "具备所需认证：NMPA注册证" in matches
    assert "production" not in reasons and "、新、" not in reasons and "：新、" not in reasons
    page = client.get(f"/needs/{need}").get_data(as_text=True)
    assert f"同一领域：{field_zh}" in page
    client.get("/lang/en")
    page = client.get(f"/needs/{need}").get_data(as_text=True)
    assert f"same field: {field_en}" in page and "has the required certifications: NMPA registration" in page


def test_strength_is_calibrated_saved_with_the_model_and_used_for_new_needs(app, client, make):
    maker = make.org("firm")
    for i, word in enumerate(("呼吸机", "监护仪", "输液泵", "除颤仪", "制氧机")):
        make.offer(maker if i % 2 else make.org("firm"), title_zh=f"医用{word}", tags=[word])
    hospital, _, email = make.member("hospital")
    for word in ("呼吸机", "监护仪", "输液泵"):
        make.need(hospital, title_zh=f"采购{word}", tags=[word])
    summary = _rebuild(app)
    assert summary["calibration"] == "quantile"
    with app.app_context():
        directory = current_settings().matching_model_dir
        assert (directory / "calibration.json").exists()
        strengths = list(db.session.scalars(select(MatchSuggestion.strength)))
    assert strengths and all(s is not None and 0 <= s <= 100 for s in strengths)
    login(client, email)
    r = client.post("/needs/new?kind=procurement", data={"title_zh": "紧急采购除颤仪", "tags": "除颤仪"})
    new_need = int(r.headers["Location"].rsplit("/", 1)[1])
    ranked = _suggested(app, new_need)
    assert ranked and ranked[0][1] is not None
    html = client.get(f"/needs/{new_need}").get_data(as_text=True)
    assert 'class="badge match-strength' in html and "/100" in html
    assert '<details class="match-parts' in html and "文字相似" in html
    body = client.get(f"/api/v1/needs/{new_need}/matches").get_json()
    assert body["items"][0]["band"] in ("strong", "good", "possible") and body["items"][0]["strength"] is not None


def test_funders_see_firms_that_fit_their_products_without_a_financing_need(app, client, make):
    bank, _, banker = make.member("bank")
    loan = make.offer(bank, kind="financial", title_zh="专精特新贷", tags=["贷款"], field_codes=())
    _financial(app, loan, product_type="loan", amount_max_rmb=Decimal(10_000_000), eligible_sizes=["small"],
               park_only=True, eligible_fields=["D1"])
    fits = make.org("firm", name="合适的小企业", size_class="small", registered_in_park=True)
    make.org("firm", name="园区外企业", size_class="small", registered_in_park=False)
    make.org("firm", name="大型企业", size_class="large", registered_in_park=True)
    with app.app_context():
        db.session.get(Organization, fits).fields = [db.session.scalar(select(Field).where(Field.code == "D1.ivd"))]
        db.session.commit()
    login(client, banker)
    assert "firms-link" in client.get("/account/").get_data(as_text=True)
    html = client.get("/matches/firms").get_data(as_text=True)
    listed = html.split('id="fitting-firms"')[1]
    assert "合适的小企业" in listed and "园区外企业" not in listed and "大型企业" not in listed
    assert "3 / 3" in listed or "满足 3" in listed or "3 of 3" in listed
    assert "企业规模符合：小型" in listed and "已在园区注册" in listed


def test_new_fields_are_validated_on_the_forms(app, client, make):
    firm, _, email = make.member("firm")
    login(client, email)
    r = client.post("/needs/new?kind=financing", data={"title_zh": "融资", "term_months": "0", "max_rate_pct": "abc",
                                                        "collateral_available": "maybe"})
    assert r.status_code in (200, 400, 422)
    html = r.get_data(as_text=True)
    assert html.count("invalid-feedback") >= 3
    r = client.post("/needs/new?kind=financing", data={"title_zh": "融资500万", "budget_max_rmb": "5000000",
                                                        "term_months": "24", "max_rate_pct": "4.5",
                                                        "collateral_available": "no"})
    need_id = int(r.headers["Location"].rsplit("/", 1)[1])
    saved = make.get(Need, need_id)
    assert (saved["term_months"], saved["max_rate_pct"], saved["collateral_available"]) == (24, 4.5, False)
    r = client.post(f"/orgs/{firm}/edit", data={"name_zh": "某企业", "group_parent_id": str(firm),
                                                          "growth_stage": "growth"})
    assert "不能属于自己的集团" in r.get_data(as_text=True)
    parent = make.org("firm", name="集团总部")
    r = client.post(f"/orgs/{firm}/edit", data={"name_zh": "某企业", "group_parent_id": str(parent),
                                                 "growth_stage": "growth"})
    assert r.status_code == 302
    assert (make.get(Organization, firm)["group_parent_id"], make.get(Organization, firm)["growth_stage"]) == (
        parent, "growth")


def test_financing_figures_in_reasons_only_for_viewers_who_may_see_the_need_details(app, client, make):
    bank = make.org("bank")
    loan = make.offer(bank, kind="financial", title_zh="科创贷款", summary_zh="流动资金贷款", tags=["贷款"], field_codes=())
    _financial(app, loan, product_type="loan", amount_min_rmb=Decimal(1_000_000), amount_max_rmb=Decimal(20_000_000))
    firm, _, email = make.member("firm")
    need = make.need(firm, kind="financing", title_zh="流动资金贷款需求", description_zh="需要流动资金贷款",
                     tags=["贷款"], budget_max_rmb=Decimal(5_000_000), visibility="teaser")
    _rebuild(app)
    assert [offer for offer, *_ in _suggested(app, need)] == [loan]
    visitor = client.get(f"/needs/{need}").get_data(as_text=True)
    assert "科创贷款" in visitor and "500万元" not in visitor and "所需金额" not in visitor
    login(client, email)
    assert "所需金额500万元在产品额度" in client.get(f"/needs/{need}").get_data(as_text=True)


def test_event_suggestions_name_funders_whose_products_fit_a_firm_without_a_financing_need(app, make):
    from marketplace.models import User
    from marketplace.services import funder_fit
    fitting_bank, picky_bank = make.org("bank", name="适配银行"), make.org("bank", name="只贷大企业的银行")
    fitting = make.offer(fitting_bank, kind="financial", title_zh="小微贷", field_codes=())
    picky = make.offer(picky_bank, kind="financial", title_zh="大企业贷", field_codes=())
    _financial(app, fitting, product_type="loan", eligible_sizes=["small"])
    _financial(app, picky, product_type="loan", eligible_sizes=["large"])
    firm = make.org("firm", size_class="small")
    operator_id, _ = make.staff("operator")
    with app.app_context():
        operator = db.session.get(User, operator_id)
        assert [org.id for org in funder_fit.funders_for_firm(operator, firm)] == [fitting_bank]
        assert funder_fit.funders_for_firm(operator, fitting_bank) == []  # only firms are compared


def test_graph_reasons_name_offers_and_organisations_and_drop_paths_through_hidden_offers(app, make):
    from marketplace.models import User
    from marketplace.services.match_reasons import safe_reasons
    maker = make.org("firm", name="路径企业")
    offer = make.offer(maker, title_zh="目标产品")
    via = make.offer(maker, title_zh="中间产品", title_en="Middle product")
    draft = make.offer(maker, title_zh="草稿产品", status="draft")
    hospital, user_id, _ = make.member("hospital")
    need = make.need(hospital)

    def path(middle):
        return {"type": "graph", "zh": "", "en": "", "text": "",
                "path": [{"node": "field:D1.ivd", "relation": "in_field"}, {"node": f"offer:{middle}", "relation": "in_field"},
                         {"node": f"org:{maker}", "relation": "offered_by"}, {"node": f"offer:{offer}", "relation": "offered_by"}]}
    with app.app_context():
        user = db.session.get(User, user_id)
        shown = safe_reasons(user, db.session.get(Need, need), db.session.get(Offer, offer), [path(via), path(draft)])
    assert len(shown) == 1
    assert "中间产品" in shown[0]["zh"] and "路径企业" in shown[0]["zh"] and f"offer:{via}" not in shown[0]["zh"]
    assert "Middle product" in shown[0]["en"] and "D1.ivd" not in shown[0]["en"]

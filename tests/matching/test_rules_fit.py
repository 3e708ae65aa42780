"""Pairs that make sense, financing fit, certification rules, readable reasons and calibrated strength
(the library side: ``grouping``, ``finance``, ``refine``, ``explain``, ``calibration``)."""
import datetime as dt

import numpy as np
import pytest

from matching import explain, finance
from matching.calibration import Calibration, band
from matching.grouping import exclude_own, group_similar
from matching.refine import NOT_CERTIFIED, refine
from matching.rules import OfferRuleTable


def _m(offer, score):
    return {"offer": offer, "score": score, "parts": {"text": 0.5}, "reasons": []}


# --- self-pairs and groups ------------------------------------------------------------------------

def test_an_organisation_is_never_paired_with_itself_or_its_declared_group():
    offers = {"1": {"org": "7"}, "2": {"org": "8"}, "3": {"org": "9"}, "4": {"org": "10"}}
    matches = [_m("1", 2.0), _m("2", 1.5), _m("3", 1.0), _m("4", 0.5)]
    assert [m["offer"] for m in exclude_own({"org": "7"}, matches, offers)] == ["2", "3", "4"]
    groups = {"7": "7", "8": "7", "9": "7"}  # 8 and 9 declared 7 as their group
    assert [m["offer"] for m in exclude_own({"org": "8"}, matches, offers, groups)] == ["4"]
    assert [m["offer"] for m in exclude_own({}, matches, offers, groups)] == ["1", "2", "3", "4"]


def test_one_organisations_variants_fold_into_the_best_with_the_rest_kept():
    base = "便携式彩色多普勒超声诊断仪"
    offers = {str(i): {"org": "5", "title_zh": f"{base}{suffix}"}
              for i, suffix in enumerate(["", "云端版", "快速版", "第二代", "出口版"], start=1)}
    offers["6"] = {"org": "5", "title_zh": "医用防护口罩"}
    offers["7"] = {"org": "6", "title_zh": f"{base}精简版"}  # another firm's similar title is not a variant
    ranked = [_m(str(i), 3.0 - i / 10) for i in range(1, 8)]
    leaders = group_similar(ranked, offers)
    assert [m["offer"] for m in leaders] == ["1", "6", "7"]
    assert [m["offer"] for m in leaders[0]["similar"]] == ["2", "3", "4", "5"]


def test_one_product_name_with_variant_labels_and_the_same_description_folds_across_organisations():
    text = "集装箱式CT扫描室，48小时部署，适合方舱医院和发热门诊。"
    offers = {str(i): {"org": str(i), "title_zh": f"移动CT方舱{label}", "summary_zh": f"{text}由{i}号公司提供。"}
              for i, label in enumerate(["", "（第二代）", "（基层医院版）", "(export)"], start=1)}
    offers["5"] = {"org": "5", "title_zh": "移动CT方舱", "summary_zh": "车载CT，配备独立发电，适合偏远地区巡回筛查和体检。"}
    leaders = group_similar([_m(str(i), 3 - i / 10) for i in range(1, 6)], offers)
    assert [(m["offer"], [s["offer"] for s in m["similar"]]) for m in leaders] == [("1", ["2", "3", "4"]), ("5", [])]


def test_near_identical_texts_of_different_organisations_fold_but_related_ones_do_not():
    text = "新型冠状病毒核酸检测试剂盒，荧光PCR法，适用于医院检验科和疾控中心，出结果时间45分钟"
    offers = {"1": {"org": "1", "title_zh": "核酸检测试剂盒", "summary_zh": text},
              "2": {"org": "2", "title_zh": "核酸检测试剂盒", "summary_zh": text + "。"},
              "3": {"org": "3", "title_zh": "抗原快速检测卡", "summary_zh": "胶体金法抗原检测，15分钟出结果，适合居家自测"}}
    leaders = group_similar([_m("1", 2), _m("2", 1.9), _m("3", 1.8)], offers)
    assert [(m["offer"], [s["offer"] for s in m["similar"]]) for m in leaders] == [("1", ["2"]), ("3", [])]


# --- financing fit ----------------------------------------------------------------------------------

LOAN = {"product_type": "loan", "amount_min": 1_000_000, "amount_max": 10_000_000, "term_min": 6, "term_max": 36,
        "rate_min": 3.5, "collateral_required": True, "eligible_sizes": ["micro", "small"], "park_only": True,
        "eligible_fields": ["D1"], "eligible_stages": ["early", "growth"]}


def _outcomes(**seeker):
    return {rule: outcome for rule, outcome, _, _ in finance.finance_outcomes(seeker, LOAN)}


@pytest.mark.parametrize("rule, good, bad", [
    ("amount", {"amount": 5_000_000}, {"amount": 50_000_000}),
    ("term", {"term_months": 12}, {"term_months": 60}),
    ("rate", {"max_rate_pct": 4.0}, {"max_rate_pct": 3.0}),
    ("collateral", {"collateral": True}, {"collateral": False}),
    ("size", {"size_class": "small"}, {"size_class": "large"}),
    ("park", {"in_park": True}, {"in_park": False}),
    ("field", {"fields": ["D1.devices"]}, {"fields": ["E2.software"]}),
    ("stage", {"stage": "growth"}, {"stage": "seed"}),
])
def test_each_financing_rule_is_met_failed_or_not_applicable(rule, good, bad):
    assert _outcomes(**good) == {rule: 1}
    assert _outcomes(**bad) == {rule: -1}
    assert _outcomes() == {}  # nothing known about the seeker: nothing decided


def test_hard_financing_rules_exclude_and_soft_ones_lower_the_fit():
    outcomes = finance.finance_outcomes({"amount": 50_000_000, "term_months": 12}, LOAN)
    assert finance.hard_failed(outcomes) == ["amount"]
    outcomes = finance.finance_outcomes({"amount": 5_000_000, "term_months": 60, "stage": "growth"}, LOAN)
    assert finance.hard_failed(outcomes) == [] and finance.fit_score(outcomes) == pytest.approx(1 / 3)


def test_investors_focus_uses_ticket_size_fields_and_stages():
    fund = {"product_type": "investment", "ticket_min": 2_000_000, "ticket_max": 20_000_000,
            "invest_fields": ["D1.ivd"], "invest_stages": ["angel", "early"]}
    good = finance.finance_outcomes({"amount": 5_000_000, "fields": ["D1.ivd"], "stage": "early"}, fund)
    assert {r: o for r, o, _, _ in good} == {"amount": 1, "field": 1, "stage": 1}
    bad = finance.finance_outcomes({"amount": 500_000, "fields": ["D2"], "stage": "late"}, fund)
    assert {r: o for r, o, _, _ in bad} == {"amount": -1, "field": -1, "stage": -1}


NAMES = {"D1": ("医疗器械", "Medical devices"), "D1.ivd": ("体外诊断", "In-vitro diagnostics")}


def test_financing_reasons_read_well_in_both_languages():
    reason = finance.finance_reason("amount", 1, 5_000_000, (1_000_000, 10_000_000), "zh")
    assert reason["zh"] == "所需金额500万元在产品额度100万元–1,000万元以内"
    assert reason["en"] == "amount needed RMB 5,000,000 within the product's range RMB 1,000,000–RMB 10,000,000"
    assert reason["text"] == reason["zh"] and reason["met"] is True
    rate = finance.finance_reason("rate", -1, 3.0, 3.5, "en")
    assert (rate["zh"], rate["text"]) == ("利率3.5%高于可接受的3%", "rate 3.5% above the ceiling of 3%")
    size = finance.finance_reason("size", -1, "large", ["micro", "small"], "zh")
    assert size["zh"] == "企业规模不符合：大型（面向微型、小型）" and "micro, small" in size["en"]
    field = finance.finance_reason("field", 1, ["D1.ivd"], ["D1"], "zh",
                                   lambda code, zh: NAMES.get(code, (code, code))[0 if zh else 1])
    assert field["zh"] == "所属领域符合：医疗器械" and field["en"] == "field within the product's focus: Medical devices"


def test_a_financing_need_is_no_longer_matched_on_a_shared_word_alone():
    offers = {"1": {"org": "b", "kind": "financial", "finance": LOAN},
              "2": {"org": "c", "kind": "financial", "finance": dict(LOAN, amount_max=100_000_000, park_only=False)}}
    need = {"org": "f", "kind": "financing", "amount": 50_000_000, "term_months": 24, "in_park": False,
            "collateral": True}
    ranked = [_m("1", 0.96), _m("2", 0.5)]
    refined = refine(need, ranked, offers)
    assert [m["offer"] for m in refined] == ["2"]
    assert refined[0]["parts"]["fit"] == 1.0 and refined[0]["score"] == pytest.approx(1.0)
    assert {r["rule"] for r in refined[0]["reasons"]} == {"amount", "term", "collateral"}


# --- certifications -----------------------------------------------------------------------------------

def test_an_offer_stating_no_certification_fails_a_required_one():
    table = OfferRuleTable([{"id": "a", "certifications": ["NMPA"]}, {"id": "b"}, {"id": "c", "certifications": ["CE"]}])
    out = table.outcomes({"required_certifications": ["nmpa"]}, np.array([0, 1, 2]), dt.date(2026, 1, 1))
    assert out["certifications"].tolist() == [1.0, -1.0, -1.0]
    assert "certifications" not in table.outcomes({"required_certifications": ["none"]}, np.array([0, 1]),
                                                  dt.date(2026, 1, 1))


def test_required_certification_is_hard_for_procurement_unless_the_need_allows_it_flagged():
    offers = {"1": {"org": "a", "kind": "product", "certifications": ["nmpa"]},
              "2": {"org": "b", "kind": "product"},
              "3": {"org": "c", "kind": "product", "certifications": ["ce"]}}
    ranked = [_m("2", 2.0), _m("3", 1.5), _m("1", 1.0)]
    need = {"org": "h", "kind": "procurement", "required_certifications": ["nmpa"]}
    assert [m["offer"] for m in refine(need, ranked, offers)] == ["1"]
    allowed = refine(dict(need, allow_uncertified=True), ranked, offers)
    assert [(m["offer"], m["flags"]) for m in allowed] == [("2", [NOT_CERTIFIED]), ("3", [NOT_CERTIFIED]), ("1", [])]
    # a technology-cooperation need is not held to it: the offers stay, flagged
    kept = refine(dict(need, kind="technology_cooperation"), ranked, offers)
    assert [m["flags"] for m in kept] == [[NOT_CERTIFIED], [NOT_CERTIFIED], []]


# --- reasons a person reads ----------------------------------------------------------------------------

def test_shared_terms_drop_single_characters_stop_words_and_keep_each_language():
    reason = explain.terms_reason(["冠", "新", "产", "线", "production", "万元", "呼吸机", "ventilator", "ICU", "2"], "zh")
    assert reason["terms"] == ["呼吸机", "ventilator", "ICU"]
    assert reason["zh"] == "共同关键词：呼吸机" and reason["en"] == "shared terms: ventilator, ICU"
    assert explain.terms_reason(["冠", "新", "production", "万元", "一年", "两天", "三个月", "million", "rmb"], "en") is None
    only_chinese = explain.terms_reason(["呼吸机", "有创"], "en")
    assert only_chinese["en"] == "shared terms: 呼吸机, 有创"  # the text has no English: its own words


def test_certification_reasons_show_labels_not_codes():
    failed = explain.rule_reason("certifications", -1, ["nmpa"], [], "zh")
    assert failed["zh"] == "缺少所需认证：NMPA注册证（现有：无）"
    assert failed["en"] == "missing required certifications: NMPA registration (has: none)"
    met = explain.rule_reason("certifications", 1, ["nmpa", "ce"], ["NMPA", "CE"], "en")
    assert met["text"] == "has the required certifications: NMPA registration, CE marking"


# --- calibration ----------------------------------------------------------------------------------------

def test_calibration_is_monotone_and_means_the_same_for_every_need():
    rng = np.random.default_rng(7)
    scores = rng.gamma(2.0, 0.5, size=2000)
    calibration = Calibration.fit(scores)
    grid = np.linspace(0, scores.max() * 1.2, 200)
    strengths = [calibration.strength(x) for x in grid]
    assert strengths == sorted(strengths) and strengths[0] == 0 and strengths[-1] == 100
    # "strong" is a fixed share of the proposals, wherever the score sits
    strong = np.mean([band(calibration.strength(s)) == "strong" for s in scores])
    assert 0.2 <= strong <= 0.3
    assert calibration.strength(1.2) == calibration.strength(1.2)  # a pure function of the score


def test_calibration_learns_from_judged_pairs_and_round_trips(tmp_path):
    judged = [(s, s > 1.0) for s in np.linspace(0.2, 2.0, 40)]
    calibration = Calibration.fit([0.1, 5.0], judged)
    assert calibration.method == "isotonic"
    assert calibration.strength(0.3) == 0 and calibration.strength(1.9) == 100
    calibration.save(tmp_path)
    loaded = Calibration.load(tmp_path)
    assert loaded.state() == calibration.state() and loaded.strength(1.5) == calibration.strength(1.5)
    assert Calibration.load(tmp_path / "missing").strength(1.0) is None
    assert band(None) is None and band(80) == "strong" and band(50) == "good" and band(10) == "possible"


def test_refine_attaches_strength_to_leaders_and_folded_variants():
    offers = {"1": {"org": "a", "title_zh": "血液透析机"}, "2": {"org": "a", "title_zh": "血液透析机便携版"},
              "3": {"org": "b", "title_zh": "输液泵"}}
    calibration = Calibration.fit([0.5, 1.0, 1.5, 2.0])
    refined = refine({"org": "h"}, [_m("1", 2.0), _m("2", 1.9), _m("3", 0.5)], offers, calibration=calibration)
    assert [(m["offer"], m["band"]) for m in refined] == [("1", "strong"), ("3", "possible")]
    assert refined[0]["similar"][0]["strength"] == calibration.strength(1.9)

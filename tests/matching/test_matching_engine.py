"""MatchingEngine behaviour on small hand-made data where the right answer is known."""

import random

import numpy as np
import pytest

from matching import EngineConfig, IdMap, MatchingEngine, kind_compatible
from matching.feedback import DEFAULT_WEIGHTS, PARTS

AS_OF = "2024-01-01"


def fitted(offers, edges=(), **config):
    return MatchingEngine(as_of=AS_OF, **config).fit(offers, edges)


def offer_ids(result):
    return [m["offer"] for m in result["matches"]]


# -- interchangeable backends: every configuration must honour the same contract ----------------
BACKENDS = {
    "bm25+graph": {},
    "tfidf+graph": {"text_model": "tfidf"},
    "bm25 text only": {"weights": {**DEFAULT_WEIGHTS, "graph": 0.0, "graph_text": 0.0}},
    "no bigrams": {"cjk_bigrams": False},
}


@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_contract(backend, matching_offers, matching_edges, matching_need):
    engine = fitted(matching_offers, matching_edges, **BACKENDS[backend])
    results = engine.rank([matching_need, {"id": 9, "title": "ventilator"}], top_k=3)
    assert [r["need"] for r in results] == ["n1", "9"]
    first = results[0]["matches"]
    assert 0 < len(first) <= 3
    assert first[0]["offer"] == "1"
    assert [m["score"] for m in first] == sorted((m["score"] for m in first), reverse=True)
    weights = dict(zip(PARTS, engine.fusion_weights()))  # graph parts scaled by the graph's worth
    for match in first:
        assert set(match["parts"]) == set(PARTS)
        assert match["score"] == pytest.approx(sum(weights[p] * v for p, v in match["parts"].items()), abs=1e-4)
        assert all({"type", "zh", "en", "text"} <= set(r) for r in match["reasons"])
    assert results[1]["matches"][0]["offer"] == "4"
    assert engine.rank_one(matching_need, top_k=3) == results[0]


def test_text_ordering_without_graph():
    offers = [
        {"id": "a", "title": "呼吸机 ventilator"},
        {"id": "b", "title": "核酸检测试剂盒"},
        {"id": "c", "title": "红外测温 infrared temperature screening"},
    ]
    engine = fitted(offers)
    assert offer_ids(engine.rank_one({"id": "q", "title": "需要红外测温设备"}))[0] == "c"
    assert offer_ids(engine.rank_one({"id": "q", "text": "ventilators for ICU"}))[0] == "a"
    assert engine.rank_one({"id": "q", "title": "完全无关 zebra"})["matches"] == []


def test_kind_rules_filter_incompatible_offers(matching_offers):
    engine = fitted(matching_offers)
    need = {"id": "n", "title": "核酸检测", "kind": "procurement"}
    kinds = {o["id"]: o["kind"] for o in matching_offers}
    assert {kinds[int(i)] for i in offer_ids(engine.rank_one(need))} == {"product"}
    tech = offer_ids(engine.rank_one({"id": "n", "title": "核酸检测", "kind": "technology_cooperation"}))
    assert tech and {kinds[int(i)] for i in tech} <= {"technology", "patent"}
    assert "3" in offer_ids(engine.rank_one({"id": "n", "title": "核酸检测", "kind": "testing_lab"}))
    assert offer_ids(engine.rank_one({"id": "n", "title": "贷款", "kind": "financing"})) == ["6"]
    # a need without a kind matches every kind
    assert {"1", "3", "5", "7"} <= set(offer_ids(engine.rank_one({"id": "n", "title": "核酸检测"})))


def test_kind_table():
    assert kind_compatible("procurement", "product")
    assert not kind_compatible("procurement", "service")
    assert kind_compatible("technology_cooperation", "patent")
    assert kind_compatible("manufacturing_supply", "service", "manufacturer")
    assert not kind_compatible("manufacturing_supply", "service", "university")
    assert kind_compatible("space", "service") and kind_compatible("financing", "金融")
    assert kind_compatible(None, "patent") and kind_compatible("procurement", None)


def test_certification_rule_soft_and_hard(matching_offers):
    need = {"id": "n", "title": "核酸检测试剂盒", "required_certifications": ["NMPA"]}
    soft = fitted(matching_offers).rank_one(need, lang="en")
    rules = {m["offer"]: [r for r in m["reasons"] if r["type"] == "rule"] for m in soft["matches"]}
    assert rules["1"][0]["met"] is True and "NMPA" in rules["1"][0]["en"]
    assert rules["5"][0]["met"] is False and "missing" in rules["5"][0]["en"]
    parts = {m["offer"]: m["parts"]["rules"] for m in soft["matches"]}
    assert parts["1"] == 1.0 and parts["5"] == -1.0
    hard = fitted(matching_offers, hard_rules=("kind", "certifications")).rank_one(need)
    assert "5" not in offer_ids(hard) and "1" in offer_ids(hard)


def test_trl_budget_deadline_rules(matching_offers, matching_need):
    result = fitted(matching_offers).rank_one(matching_need, lang="en")
    by_offer = {m["offer"]: m for m in result["matches"]}
    texts = [r["en"] for r in by_offer["5"]["reasons"] if r["type"] == "rule"]
    assert any("over budget" in t for t in texts) and any("cannot deliver" in t for t in texts)
    texts = [r["en"] for r in by_offer["1"]["reasons"] if r["type"] == "rule"]
    assert any("within budget" in t for t in texts) and any("before the deadline" in t for t in texts)
    trl = fitted(matching_offers).rank_one({"id": "t", "title": "核酸 nucleic acid", "min_trl": 6}, lang="en")
    patent = next(m for m in trl["matches"] if m["offer"] == "7")
    assert any(r.get("rule") == "trl" and not r["met"] for r in patent["reasons"])


def test_reasons_in_chinese_and_english(matching_offers, matching_edges, matching_need):
    engine = fitted(matching_offers, matching_edges)
    zh = engine.rank_one(matching_need, lang="zh")["matches"][0]
    en = engine.rank_one(matching_need, lang="en")["matches"][0]
    assert zh["offer"] == "1"
    types = {r["type"] for r in zh["reasons"]}
    assert {"terms", "tags", "graph", "rule"} <= types
    terms = next(r for r in zh["reasons"] if r["type"] == "terms")
    assert terms["text"].startswith("共同关键词") and "核酸" in terms["terms"]
    assert next(r for r in en["reasons"] if r["type"] == "terms")["text"].startswith("shared terms")
    graph = next(r for r in zh["reasons"] if r["type"] == "graph")
    assert graph["zh"] == "同一领域：体外诊断" and graph["en"] == "same field: 体外诊断"
    assert any(r["zh"].startswith("类型匹配") for r in zh["reasons"])


def test_graph_path_reason_through_partner_organisations(matching_offers, matching_edges, matching_need):
    match = next(
        m
        for m in fitted(matching_offers, matching_edges).rank_one(matching_need, lang="en")["matches"]
        if m["offer"] == "5"
    )
    chain = [r for r in match["reasons"] if r["type"] == "graph" and "partner" in r["en"]]
    assert chain and chain[0]["zh"] == "来自您的供应商“某供应商”的合作伙伴“戊公司”"


def test_graph_signal_breaks_text_ties():
    # Two offers with identical text; only the graph tells which one the need's network uses.
    offers = [
        {"id": "x", "title": "无人配送机器人 delivery robot", "org": "org A"},
        {"id": "y", "title": "无人配送机器人 delivery robot", "org": "org B"},
        {"id": "z", "title": "消毒机器人 disinfection robot", "org": "org C"},
    ]
    need = {"id": "n", "title": "无人配送机器人", "org": "医院H"}
    text_only = fitted(offers).rank_one(need)
    assert offer_ids(text_only)[:2] == ["x", "y"]  # tie broken by fitting order
    edges = [{"source": "org:医院H", "target": "org:org B", "relation": "partner"}]
    with_graph = fitted(offers, edges).rank_one(need, lang="en")
    assert offer_ids(with_graph)[0] == "y"
    assert with_graph["matches"][0]["parts"]["graph"] > 0
    assert any("partner" in r["en"] for r in with_graph["matches"][0]["reasons"])


def test_need_edges_and_name_variants_reach_offers():
    offers = [
        {"id": "1", "title": "compiler design"},
        {"id": "2", "title": "operating systems"},
        {"id": "3", "title": "compiler optimisation"},
    ]
    edges = [
        {"source": "offer:2", "target": "author:Pooch, U.W.", "relation": "written_by"},
        {"source": "need:q", "target": "author:Pooch, U.", "relation": "asks_for_author"},
    ]
    need = {"id": "q", "text": "articles written by Udo Pooch about compilers"}
    assert offer_ids(fitted(offers, edges).rank_one(need))[0] == "2"
    assert offer_ids(fitted(offers).rank_one(need))[0] in {"1", "3"}


def test_entity_named_in_need_text_seeds_the_graph():
    offers = [{"id": "1", "title": "检测服务"}, {"id": "2", "title": "检测服务"}]
    edges = [{"source": "offer:2", "target": "org:北京协和医院", "relation": "customer"}]
    result = fitted(offers, edges).rank_one({"id": "n", "title": "北京协和医院的检测服务"}, lang="en")
    assert offer_ids(result)[0] == "2"
    assert any(
        r["type"] == "graph" and "named in the need" in r["en"] for r in result["matches"][0]["reasons"]
    )


def test_unknown_offer_edge_end_rejected(matching_offers):
    with pytest.raises(ValueError, match="offer:99"):
        fitted(matching_offers, [{"source": "offer:99", "target": "org:x", "relation": "r"}])
    with pytest.raises(ValueError, match="duplicate"):
        fitted([{"id": 1}, {"id": "1"}])
    with pytest.raises(ValueError):
        fitted([])


def test_rank_offer_reverse_direction(matching_offers, matching_need):
    engine = fitted(matching_offers)
    needs = [
        matching_need,
        {"id": "lab", "title": "需要核酸检测实验室", "kind": "testing_lab"},
        {"id": "far", "title": "贷款"},
    ]
    result = engine.rank_offer(3, needs)
    assert result["offer"] == "3"
    assert [m["need"] for m in result["matches"]] == ["lab"]  # procurement cannot use a service
    forward = engine.rank_one(needs[1])
    assert forward["matches"][0]["offer"] == "3"
    assert forward["matches"][0]["score"] == result["matches"][0]["score"]


def test_feedback_trains_weights(matching_offers):
    engine = fitted(matching_offers)
    rng = random.Random(3)
    labelled = []
    for i in range(40):
        need = {"id": f"f{i}", "title": rng.choice(["核酸检测", "试剂盒", "检测服务"]), "tags": ["PCR"]}
        labelled.append((need, 1, "accepted"))  # users keep accepting the tagged offer
        labelled.append((need, rng.choice([3, 5]), "dismissed"))
    assert not engine.train_feedback(labelled[:10])  # too few: defaults stay
    assert engine.weights == DEFAULT_WEIGHTS
    assert engine.train_feedback(labelled)
    assert engine.feedback_trained and engine.weights != DEFAULT_WEIGHTS
    assert engine.weights["tags"] > DEFAULT_WEIGHTS["tags"]
    only_positive = fitted(matching_offers)
    assert not only_positive.train_feedback([(l[0], 1, "signed") for l in labelled])


def test_save_load_roundtrip_identical_and_pickle_free(
    tmp_path, matching_offers, matching_edges, matching_need
):
    engine = fitted(matching_offers, matching_edges)
    needs = [matching_need, {"id": "b", "title": "ventilator export"}, {"id": "c", "title": "专利 patent"}]
    engine.save(tmp_path / "model")
    loaded = MatchingEngine.load(tmp_path / "model")
    assert loaded.rank(needs, lang="en") == engine.rank(needs, lang="en")
    assert loaded.offers == engine.offers
    for path in (tmp_path / "model").iterdir():
        assert path.suffix in {".json", ".npz", ".npy"}
        content = path.read_bytes()
        assert not content.startswith(b"\x80")  # pickle protocol header
        if path.suffix == ".npz":
            np.load(path, allow_pickle=False)  # raises if any array needs pickle


def test_idmap():
    ids = IdMap([7, "a"])
    assert ids.index("7") == 0 and ids.index(7) == 0 and ids.id(1) == "a"
    assert ids.add("b") == 2 and ids.add(7) == 0 and len(ids) == 3
    assert "b" in ids and 8 not in ids and ids.get("x") is None
    assert IdMap(ids.to_list()) == ids
    with pytest.raises(KeyError, match="zz"):
        ids.index("zz")


def test_config_roundtrip():
    config = EngineConfig(text_model="tfidf", hard_rules=("kind", "budget"))
    assert EngineConfig.from_json(config.to_json()) == config


def test_scales_sparsely_to_20k_offers():
    rng = random.Random(0)
    words = [f"w{i}" for i in range(3000)] + ["核酸", "检测", "试剂", "呼吸机", "影像", "芯片"]
    offers = [
        {"id": i, "title": " ".join(rng.choices(words, k=12)), "org": f"o{i % 500}", "fields": [f"f{i % 40}"]}
        for i in range(20_000)
    ]
    engine = MatchingEngine().fit(offers)
    needs = [
        {"id": j, "title": " ".join(rng.choices(words, k=5)), "fields": [f"f{j % 40}"]} for j in range(300)
    ]
    results = engine.rank(needs, top_k=5, explain=False)
    assert len(results) == 300 and all(len(r["matches"]) == 5 for r in results)

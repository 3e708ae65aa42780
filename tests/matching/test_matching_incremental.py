"""Adding offers to a fitted engine gives the same rankings as refitting on all offers."""

import random

import pytest

from matching import MatchingEngine

WORDS_ZH = ["核酸", "检测", "试剂盒", "抗原", "影像", "诊断", "呼吸机", "口罩", "消毒", "机器人", "芯片", "传感器",
            "疫苗", "冷链", "物流", "贷款", "担保", "实验室", "认证", "远程医疗"]
WORDS_EN = ["test", "kit", "antigen", "imaging", "ventilator", "mask", "robot", "sensor", "vaccine", "loan",
            "laboratory", "screening", "portable", "cloud"]
KINDS = ("technology", "product", "service", "patent", "financial")


def _records(rng, prefix, count, kinds=True):
    out = []
    for i in range(count):
        record = {
            "id": f"{prefix}{i}",
            "title": "".join(rng.sample(WORDS_ZH, 2)) + " " + rng.choice(WORDS_EN),
            "text": " ".join(rng.sample(WORDS_ZH, 4) + rng.sample(WORDS_EN, 3)),
            "tags": rng.sample(WORDS_ZH, 1),
            "org": f"org{rng.randrange(12)}",
            "fields": [f"F{rng.randrange(5)}"],
        }
        if kinds:
            record["kind"] = rng.choice(KINDS)
        if rng.random() < 0.3:
            record["certifications"] = ["CE"]
            record["price"] = rng.randrange(1000, 90000)
        out.append(record)
    return out


@pytest.fixture
def marketplace():
    rng = random.Random(5)
    offers = _records(rng, "o", 160)
    needs = _records(rng, "n", 25, kinds=False)
    for need in needs[:10]:
        need["kind"] = "procurement"
        need["required_certifications"] = ["CE"]
        need["budget"] = 50000
    # A new word in the batch (only its offers have it) and an edge naming a new offer.
    batch = offers[120:]
    batch[0]["text"] += " 全新纳米材料"
    needs[15]["text"] += " 全新纳米材料"
    edges = [{"source": "org:org1", "target": "org:org2", "relation": "deal"},
             {"source": "need:n4", "target": "offer:o7", "relation": "introduced"}]
    new_edges = [{"source": "need:n5", "target": f"offer:{batch[1]['id']}", "relation": "introduced"},
                 {"source": "org:org3", "target": "org:新伙伴", "relation": "partner"}]
    return offers, needs, edges, batch, new_edges


def test_adding_offers_equals_refitting(marketplace):
    offers, needs, edges, batch, new_edges = marketplace
    refit = MatchingEngine().fit(offers, edges + new_edges)
    grown = MatchingEngine().fit(offers[:120], edges).add_offers(batch, new_edges)
    assert grown.offers.to_list() == refit.offers.to_list()
    assert grown.text.vocabulary == refit.text.vocabulary
    assert (grown.text.doc_weights != refit.text.doc_weights).nnz == 0
    assert (grown.text.idf == refit.text.idf).all()
    assert grown.graph.nodes.to_list() == refit.graph.nodes.to_list()
    assert (grown.graph.adjacency != refit.graph.adjacency).nnz == 0
    for lang in ("zh", "en"):
        assert grown.rank(needs, top_k=10, lang=lang) == refit.rank(needs, top_k=10, lang=lang)
    assert grown.rank_one(needs[15]) == refit.rank_one(needs[15])
    # The new offers are found: the need naming the new word finds the batch offer having it.
    assert batch[0]["id"] in [m["offer"] for m in grown.rank_one(needs[15], top_k=10)["matches"]]


def test_adding_in_several_batches_equals_refitting(marketplace, tmp_path):
    offers, needs, edges, _, _ = marketplace
    refit = MatchingEngine().fit(offers, edges)
    grown = MatchingEngine().fit(offers[:100], edges)
    grown.save(tmp_path / "model")
    grown = MatchingEngine.load(tmp_path / "model")  # a saved model keeps what adding needs
    grown.add_offers(offers[100:130]).add_offers(offers[130:])
    assert grown.rank(needs, top_k=10) == refit.rank(needs, top_k=10)


def test_adding_rejects_known_ids_and_unknown_edge_ends(marketplace):
    offers, _, edges, _, _ = marketplace
    engine = MatchingEngine().fit(offers[:50], edges)
    with pytest.raises(ValueError, match="duplicate"):
        engine.add_offers([offers[3]])
    with pytest.raises(ValueError, match="names no fitted offer"):
        engine.add_offers([offers[60]], [{"source": "need:n1", "target": "offer:nope"}])
    assert len(engine.offers) == 50  # nothing was added

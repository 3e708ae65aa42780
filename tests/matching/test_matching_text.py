"""Tokenisation: Chinese (jieba words + character bigrams), English (stems, stop words), mixed."""

from matching.text import BIGRAM_PREFIX, Analyzer, TextIndex, baseline_tokenize


def test_chinese_gets_words_and_bigrams():
    tokens = Analyzer()("核酸检测试剂盒")
    assert "核酸" in tokens and "检测" in tokens and "试剂盒" in tokens
    assert BIGRAM_PREFIX + "酸检" in tokens  # bigram across a word boundary
    assert "的" not in Analyzer()("医院的需求")


def test_chinese_without_bigrams():
    tokens = Analyzer(cjk_bigrams=False)("核酸检测试剂盒")
    assert not any(t.startswith(BIGRAM_PREFIX) for t in tokens)
    assert "核酸" in tokens


def test_english_is_lowercased_stemmed_and_stopworded():
    tokens = Analyzer()("The Ventilators are Testing the screening")
    assert tokens == ["ventil", "test", "screen"]
    assert Analyzer(stem=False)("Ventilators") == ["ventilators"]


def test_mixed_text_and_full_width_characters():
    tokens = Analyzer()("ＣＴ影像AI screening系统，CE认证")
    assert "ct" in tokens and "ai" in tokens and "screen" in tokens and "ce" in tokens
    assert "影像" in tokens and "系统" in tokens


def test_surface_forms_kept_for_reasons():
    pairs = Analyzer().tokens_with_surface("Screening kits")
    assert ("screen", "screening") in pairs and ("kit", "kits") in pairs


def test_control_characters_and_empty_text():
    assert Analyzer()("\x1a\x1a") == []
    assert Analyzer()("") == []


def test_baseline_tokens_have_no_bigrams():
    tokens = baseline_tokenize("核酸检测 test kits")
    assert "核酸" in tokens and "kit" in tokens
    assert not any(t.startswith(BIGRAM_PREFIX) for t in tokens)


def test_text_index_scores_and_shared_terms():
    index = TextIndex().fit(["核酸检测试剂盒 nucleic acid kit", "呼吸机 ventilator", "CT影像"])
    queries = index.query_matrix(["需要核酸检测试剂", "ventilators"])
    scores = index.scores(queries).toarray()
    assert scores[0].argmax() == 0 and scores[1].argmax() == 1
    assert scores.shape == (2, 3)
    terms = index.shared_terms(index.need_terms("需要核酸检测试剂"), 0)
    assert "核酸" in terms and "检测" in terms


def test_tfidf_model_uses_sklearn_weights():
    index = TextIndex(model="tfidf").fit(["核酸检测", "呼吸机", "检测服务"])
    scores = index.scores(index.query_matrix(["核酸"])).toarray()[0]
    assert scores.argmax() == 0 and scores[1] == 0


def test_text_index_with_no_tokens_at_all():
    index = TextIndex().fit(["", "!!!"])
    assert index.scores(index.query_matrix(["anything"])).nnz == 0


def test_search_segmenter_gives_jiebas_words():
    import re
    from pathlib import Path

    from matching.segment import SearchSegmenter
    from matching.tokens import _get_jieba

    jieba = _get_jieba()
    compiled, walker = SearchSegmenter(_get_jieba), SearchSegmenter(_get_jieba, compiled=False)
    runs = ["核酸检测试剂盒", "中华人民共和国", "重症病房需要有创呼吸机", "北京协和医院", "的", "龘", "㐀人工智能",
            "研究生命起源", "结婚的和尚未结婚的"]
    dataset = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "kuake-qtr-train" / "offers.jsonl"
    if dataset.exists():  # real Chinese medical titles, when the shared collections are there
        lines = dataset.read_text(encoding="utf-8").splitlines()[:3000]
        runs += re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+", "\n".join(lines))
    for run in runs:
        expected = list(jieba.cut_for_search(run, HMM=False))
        assert walker.segment(run) == expected, run
        assert compiled.segment(run) == expected, run

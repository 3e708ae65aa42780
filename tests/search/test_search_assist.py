"""The search helpers of the library: pinyin forms, the vocabulary behind "did you mean", and the pinyin field
found the same way on every backend."""
from __future__ import annotations

import pytest

from search import IndexSpec, SearchQuery
from search.assist import Vocabulary, edit_distance, pinyin_forms, syllables

TITLES = ["核酸检测试剂盒", "高流量呼吸机", "移动核酸检测实验室", "红外测温门", "ICU ventilator rental",
          "AI 医学影像辅助诊断"]


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    v = Vocabulary()
    for title in TITLES:
        v.add_text(title)
    v.add_word("核酸检测")
    v.add_word("呼吸机")
    return v


def test_pinyin_forms_give_full_spelling_and_initials_of_words_and_runs():
    assert syllables("呼吸机") == ["hu", "xi", "ji"]
    forms = pinyin_forms("核酸检测")
    assert {"hesuan", "hs", "jiance", "jc", "hesuanjiance", "hsjc"} <= set(forms)
    assert pinyin_forms("PCR kit") == [] and pinyin_forms("") == []


@pytest.mark.parametrize("typed, fixed", [
    ("核算检测", "核酸检测"),  # same sound, other characters
    ("呼吸鸡", "呼吸机"),
    ("hes", "核酸"),  # a pinyin prefix
    ("hsjc", "核酸检测"),  # initials
    ("huxiji", "呼吸机"),
    ("ventilatr", "ventilator"),  # one letter missing
    ("hesuan jiance", "核酸检测"),
])
def test_did_you_mean_corrects_typos_homophones_and_pinyin(vocab, typed, fixed):
    assert vocab.did_you_mean(typed) == fixed


@pytest.mark.parametrize("typed", ["核酸", "呼吸机 ventilator", "量子", "x", "", "12345"])
def test_did_you_mean_stays_silent_for_known_or_unknowable_words(vocab, typed):
    assert vocab.did_you_mean(typed) is None


def test_from_pinyin_prefers_exact_spelling_then_frequency(vocab):
    assert vocab.from_pinyin("hesuan")[0] == "核酸"
    assert vocab.from_pinyin("he") == []  # too short to guess from a prefix
    assert vocab.from_pinyin("核酸") == []
    assert "核酸" in vocab and len(vocab) > 5


def test_edit_distance_stops_past_the_limit():
    assert edit_distance("ventilator", "ventilatr") == 1
    assert edit_distance("kitten", "sitting", limit=5) == 3
    assert edit_distance("a", "abcdef", limit=2) == 3


PINYIN_SPEC = IndexSpec(name="pinyin_docs", searchable=["title_zh", "pinyin"], filterable=["visibility"])


@pytest.mark.parametrize("kind", ["sqlite", "postgres", "meilisearch"])
def test_every_backend_finds_chinese_titles_by_their_pinyin_field(search_make_backend, kind):
    backend = search_make_backend(kind)
    backend.ensure_index(PINYIN_SPEC)
    docs = [{"id": str(i), "title_zh": title, "pinyin": " ".join(pinyin_forms(title)), "visibility": ["public"]}
            for i, title in enumerate(["核酸检测试剂盒", "高流量呼吸机", "红外测温门"], 1)]
    backend.upsert(PINYIN_SPEC.name, docs)
    for q, expected in (("hesuan", {"1"}), ("huxiji", {"2"}), ("hwcwm", {"3"})):
        result = backend.search(PINYIN_SPEC.name, SearchQuery(q=q, filters={"visibility": ["public"]}))
        assert set(result.ids) == expected, (kind, q)
    backend.drop_index(PINYIN_SPEC.name)

"""Cross-lingual expansion learnt from bilingual records: a Chinese-only need finds an English-only
offer through the text channel, with translations learnt from the records that have both sides."""

from matching import MatchingEngine
from matching.crosslingual import TermTranslations

BILINGUAL = [
    {"id": "b1", "title_zh": "呼吸机", "title_en": "ventilator"},
    {"id": "b2", "title_zh": "便携呼吸机", "title_en": "portable ventilator"},
    {"id": "b3", "title_zh": "核酸试剂盒", "title_en": "nucleic acid kit"},
    {"id": "b4", "title_zh": "抗原试剂盒", "title_en": "antigen kit"},
    {"id": "b5", "title_zh": "配送机器人", "title_en": "delivery robot"},
    {"id": "b6", "title_zh": "消毒机器人", "title_en": "disinfection robot"},
]


def test_translations_are_learnt_from_records_with_both_sides():
    table = TermTranslations().fit(BILINGUAL + [{"id": "z", "title_zh": "呼吸机"}, {"id": "e", "title": "robot"}])
    assert table.records == 6
    assert table.table["呼吸机"][0] == "ventilator"
    assert table.table["试剂盒"][0] == "kit"
    assert "robot" in table.translate("需要机器人")


def test_a_chinese_need_finds_an_english_only_offer_once_expanded():
    offers = BILINGUAL + [{"id": "en-only", "title_en": "ICU ventilator, invasive"}, {"id": "x", "title_en": "loan"}]
    table = TermTranslations().fit(offers)
    need = {"id": "n", "title_zh": "重症病房呼吸机"}
    engine = MatchingEngine().fit(offers)
    plain = [m["offer"] for m in engine.rank_one(need, top_k=10)["matches"]]
    expanded = table.expand(need)
    assert "ventilator" in expanded["text_en"].split()
    found = [m["offer"] for m in engine.rank_one(expanded, top_k=10)["matches"]]
    assert "en-only" not in plain and "en-only" in found


def test_needs_with_english_text_or_no_chinese_are_left_alone():
    table = TermTranslations().fit(BILINGUAL)
    with_english = {"id": "n", "title_zh": "呼吸机", "title_en": "ventilator"}
    assert table.expand(with_english) is with_english
    english = {"id": "m", "title": "ventilator"}
    assert table.expand(english) is english

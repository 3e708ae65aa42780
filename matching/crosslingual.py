"""Cross-lingual expansion learnt from the platform's own bilingual records: records that carry both a
Chinese and an English text (``title_zh`` / ``title_en``, ``summary_zh`` / ``summary_en`` …) give a term
translation table, and a need written only in Chinese is expanded with the English words its Chinese
words translate to, so the text channel can find an English-only offer.

The table is learnt by association, not from a dictionary: a Chinese word and an English word are
paired when they occur in the same bilingual records far more often than apart (Dice coefficient over
records, at least ``MIN_RECORDS`` records together). Each Chinese word keeps its ``PER_TERM`` best
English words. Plain data in and out; nothing is downloaded.
"""

from __future__ import annotations

import re
from collections import Counter

from .records import TEXT_KEYS
from .tokens import ENGLISH_STOPS, baseline_tokenize

MIN_RECORDS = 2  # bilingual records a pair must share
MIN_DICE = 0.3  # association needed to count as a translation
PER_TERM = 2  # English words kept per Chinese word
_CJK = re.compile(r"[\u3400-\u9fff]")
_ENGLISH_WORD = re.compile(r"[a-z][a-z0-9\-]{2,}")


def _chinese_terms(text: str) -> set[str]:
    return {t for t in baseline_tokenize(text) if len(t) > 1 and _CJK.search(t)}


def _english_words(text: str) -> set[str]:
    return {w for w in _ENGLISH_WORD.findall(text.lower()) if w not in ENGLISH_STOPS}


def _side(record: dict, suffix: str) -> str:
    return "\n".join(str(record[key + suffix]) for key in TEXT_KEYS if record.get(key + suffix))


class TermTranslations:
    """Chinese word -> English words, learnt from bilingual records (``fit``)."""

    def __init__(self) -> None:
        self.table: dict[str, list[str]] = {}
        self.records = 0

    def fit(self, records: list[dict]) -> TermTranslations:
        """Learn the table from the records that have text on both sides."""
        pairs: Counter = Counter()
        chinese_df: Counter = Counter()
        english_df: Counter = Counter()
        self.records = 0
        for record in records:
            zh, en = _side(record, "_zh"), _side(record, "_en")
            if not zh or not en:
                continue
            chinese, english = _chinese_terms(zh), _english_words(en)
            if not chinese or not english:
                continue
            self.records += 1
            chinese_df.update(chinese)
            english_df.update(english)
            pairs.update((c, e) for c in chinese for e in english)
        candidates: dict[str, list[tuple[float, str]]] = {}
        for (chinese, english), together in pairs.items():
            if together < MIN_RECORDS:
                continue
            dice = 2 * together / (chinese_df[chinese] + english_df[english])
            if dice >= MIN_DICE:
                candidates.setdefault(chinese, []).append((dice, english))
        self.table = {
            chinese: [english for _, english in sorted(found, key=lambda p: (-p[0], p[1]))[:PER_TERM]]
            for chinese, found in candidates.items()
        }
        return self

    def translate(self, text: str) -> list[str]:
        """English words for the Chinese words of ``text`` (each once, in order of appearance)."""
        words: dict[str, None] = {}
        for term in baseline_tokenize(text):
            for english in self.table.get(term, ()):
                words.setdefault(english, None)
        return list(words)

    def expand(self, need: dict) -> dict:
        """The need with a ``text_en`` of translated words when it has Chinese text and no English."""
        if _side(need, "_en") or not _CJK.search(_side(need, "") + _side(need, "_zh")):
            return need
        words = self.translate(_side(need, "") + "\n" + _side(need, "_zh"))
        return {**need, "text_en": " ".join(words)} if words else need

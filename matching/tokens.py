"""Bilingual (Chinese / English) tokenisation for the text channel.

Chinese has no spaces, so a CJK run is cut two ways: jieba words (search mode, which also
emits the shorter words inside long ones) for precision, and character bigrams for recall
when jieba's dictionary splits a term differently in the need and in the offer. English is
lower-cased, stop words dropped and words Snowball-stemmed. Both kinds of token live in one
vocabulary, so bilingual records (title_zh + title_en) are simply analysed together.
``Analyzer.count`` turns many texts into a sparse count matrix, analysing each distinct run once.
"""

from __future__ import annotations

import importlib.util
import itertools
import re
import unicodedata
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import numpy as np
import scipy.sparse as sp

BIGRAM_PREFIX = "#"  # keeps char bigrams apart from two-character jieba words

# CJK unified ideographs (+ extension A and compatibility block); latin words are [a-z0-9]+.
_RUN_RE = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)|([a-z0-9]+)")
# The same runs as one string each: a CJK run starts above "z", a latin run does not.
_WHOLE_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+")
_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")

# High-frequency Chinese function words; IDF would mostly neutralise them, dropping them keeps
# the matrices smaller and the "shared terms" reasons cleaner.
CHINESE_STOP_WORDS = frozenset(
    [
        "的",
        "了",
        "吗",
        "呢",
        "吧",
        "啊",
        "是",
        "在",
        "和",
        "与",
        "及",
        "或",
        "有",
        "我",
        "你",
        "他",
        "她",
        "它",
        "们",
        "这",
        "那",
        "就",
        "都",
        "也",
        "还",
        "又",
        "把",
        "被",
        "给",
        "对",
        "从",
        "为",
        "之",
        "其",
        "而",
        "着",
        "过",
        "得",
        "地",
        "个",
        "么",
        "什么",
        "怎么",
        "怎么办",
        "怎么样",
        "如何",
        "为什么",
        "哪些",
        "一下",
        "可以",
        "能",
        "会",
        "要",
        "吃",
        "请问",
    ]
)


def _english_stop_words() -> frozenset[str]:
    """scikit-learn's English stop words, read from their module file without importing
    scikit-learn itself (about a second of start-up for every ``python -m matching`` run)."""
    try:
        package = importlib.util.find_spec("sklearn")  # locates the package without running it
        path = Path(package.submodule_search_locations[0]) / "feature_extraction" / "_stop_words.py"
        spec = importlib.util.spec_from_file_location("_sklearn_english_stop_words", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return frozenset(module.ENGLISH_STOP_WORDS)
    except (AttributeError, ImportError, OSError, TypeError):  # another layout: the public import
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        return frozenset(ENGLISH_STOP_WORDS)


ENGLISH_STOPS = _english_stop_words()


def normalise_text(text: str) -> str:
    """NFKC-fold (full-width -> half-width), lower-case and drop control characters."""
    return _CONTROL_RE.sub(" ", unicodedata.normalize("NFKC", text)).lower()


def is_cjk(token: str) -> bool:
    """True when the token contains a CJK character."""
    return bool(_CJK_RE.search(token))


_jieba = None


def _get_jieba():
    # Imported lazily: loading jieba's dictionary costs ~0.5 s and is useless for English-only use.
    global _jieba
    if _jieba is None:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _jieba = jieba
    return _jieba


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


_segmenter = None


def _search_words(run: str) -> list[str]:
    """jieba search-mode words of one CJK run (no HMM), through the faster equivalent segmenter."""
    global _segmenter
    if _segmenter is None:
        from .segment import SearchSegmenter

        _segmenter = SearchSegmenter(_get_jieba)
    return _segmenter.segment(run)


def _segment_run(run: str, bigrams: bool) -> tuple[tuple[str, str], ...]:
    """(token, surface) pairs of one CJK run."""
    out: list[tuple[str, str]] = []
    if len(run) == 1:
        if run not in CHINESE_STOP_WORDS:
            out.append((run, run))
        return tuple(out)
    for word in _search_words(run):
        if word not in CHINESE_STOP_WORDS:
            out.append((word, word))
    if bigrams:
        out.extend((BIGRAM_PREFIX + run[i : i + 2], run[i : i + 2]) for i in range(len(run) - 1))
    return tuple(out)


def _run_token_list(run: str, bigrams: bool) -> list[str]:
    """Tokens of one CJK run, as ``_segment_run`` without the surfaces (fitting needs only these)."""
    if len(run) == 1:
        return [] if run in CHINESE_STOP_WORDS else [run]
    out = [word for word in _search_words(run) if word not in CHINESE_STOP_WORDS]
    if bigrams:
        out.extend([BIGRAM_PREFIX + run[i : i + 2] for i in range(len(run) - 1)])
    return out


@lru_cache(maxsize=200_000)
def _cjk_run_tokens(run: str, bigrams: bool) -> tuple[tuple[str, str], ...]:
    """(token, surface) pairs of one CJK run; cached because runs repeat a lot across records."""
    return _segment_run(run, bigrams)


@lru_cache(maxsize=200_000)
def _cjk_run_token_list(run: str, bigrams: bool) -> tuple[str, ...]:
    return tuple(token for token, _ in _cjk_run_tokens(run, bigrams))


class Analyzer:
    """Callable turning a string into tokens; usable as scikit-learn's ``analyzer``.

    ``cjk_bigrams`` adds character bigrams to jieba's words; ``stem`` Snowball-stems English.
    """

    def __init__(self, cjk_bigrams: bool = True, stem: bool = True):
        self.cjk_bigrams = cjk_bigrams
        self.stem = stem

    def __call__(self, text: str) -> list[str]:
        # Hot path when fitting: cached token tuples per CJK run, no surface pairs.
        out: list[str] = []
        for cjk_run, latin_run in _RUN_RE.findall(normalise_text(text or "")):
            if cjk_run:
                out.extend(_cjk_run_token_list(cjk_run, self.cjk_bigrams))
            elif latin_run not in ENGLISH_STOPS and (len(latin_run) > 1 or latin_run.isdigit()):
                out.append(_stem(latin_run) if self.stem else latin_run)
        return out

    def tokens_with_surface(self, text: str) -> list[tuple[str, str]]:
        """Tokens paired with the surface form they came from (for readable reasons)."""
        out: list[tuple[str, str]] = []
        for cjk_run, latin_run in _RUN_RE.findall(normalise_text(text or "")):
            if cjk_run:
                out.extend(_cjk_run_tokens(cjk_run, self.cjk_bigrams))
            elif latin_run not in ENGLISH_STOPS and (len(latin_run) > 1 or latin_run.isdigit()):
                out.append((_stem(latin_run) if self.stem else latin_run, latin_run))
        return out

    def config(self) -> dict:
        return {"cjk_bigrams": self.cjk_bigrams, "stem": self.stem}

    def count(self, texts, vocabulary: dict[str, int], grow: bool = True) -> sp.csr_matrix:
        """Texts x terms counts (float32 CSR) over ``vocabulary`` (token -> column).

        With ``grow`` unseen tokens get the next columns (added to ``vocabulary`` in place);
        otherwise they are left out. Each distinct CJK run or latin word is analysed once per
        call and kept as column numbers, so a large corpus costs one dictionary look-up per run.
        """
        by_run: dict[str, tuple[int, ...]] = {}
        columns: list[int] = []
        indptr = [0]
        bigrams, stem = self.cjk_bigrams, self.stem
        # New tokens get the next column numbers, as ``vocabulary.setdefault(token, len(vocabulary))``
        # would give them, but looked up in C (the dict is copied into the caller's at the end).
        lookup = defaultdict(itertools.count(len(vocabulary)).__next__, vocabulary) if grow else vocabulary
        find_runs = _WHOLE_RUN_RE.findall
        for text in texts:
            runs = find_runs(normalise_text(text or ""))
            # Only the runs met for the first time, found in C (``difference`` with a dict looks each
            # run up; ``set - dict.keys()`` would walk every known run). Their order does not matter:
            # the columns are put in term order afterwards (``TextIndex``).
            for run in set(runs).difference(by_run):
                if run[0] > "z":  # a CJK run (latin runs are [a-z0-9])
                    tokens = _run_token_list(run, bigrams)
                elif run not in ENGLISH_STOPS and (len(run) > 1 or run.isdigit()):
                    tokens = [_stem(run) if stem else run]
                else:
                    tokens = []
                if grow:
                    by_run[run] = tuple(map(lookup.__getitem__, tokens))
                else:
                    by_run[run] = tuple(vocabulary[token] for token in tokens if token in vocabulary)
            columns.extend(itertools.chain.from_iterable(map(by_run.__getitem__, runs)))
            indptr.append(len(columns))
        if grow:
            vocabulary.update(lookup)  # the new tokens, in the order they were met
        indptr_array = np.array(indptr, dtype=np.int64)
        rows = np.repeat(np.arange(len(indptr) - 1, dtype=np.int32), np.diff(indptr_array))
        counts = sp.csr_matrix(
            (np.ones(len(columns), dtype=np.float32), (rows, np.array(columns, dtype=np.int32))),
            shape=(len(indptr) - 1, len(vocabulary)),
        )
        counts.sum_duplicates()  # sorts the indices too
        return counts


def baseline_tokenize(text: str) -> list[str]:
    """Tokens of the BM25 reference baseline: jieba search-mode words for Chinese, stemmed
    English words without stop words (no bigrams, no Chinese stop list)."""
    out: list[str] = []
    for cjk_run, latin_run in _RUN_RE.findall(normalise_text(text or "")):
        if cjk_run:
            out.extend(_get_jieba().cut_for_search(cjk_run))
        elif latin_run not in ENGLISH_STOPS:
            out.append(_stem(latin_run))
    return out

"""Search-mode segmentation of a run of Chinese characters, the same words as jieba's
``cut_for_search(run, HMM=False)``, many times faster.

The words come from ``rjieba`` (compiled bindings of jieba-rs, a wheel pinned in pyproject.toml:
jieba's dictionary and algorithm, about 8x faster than the walker below and 60x faster than
jieba). Without it, a pure-Python walker over jieba's own dictionary gives the same words: jieba's
path splits the text with regular expressions, builds a dictionary of lists per position and goes
through generators and ``max()`` over tuples for every character; a run handed over by the
analyser is already one block of Chinese characters, so the walker looks each prefix up once in a
precomputed dict and finds the best route with plain loops. Ties are broken as jieba breaks them
(the longer word). ``tests/matching/test_matching_text.py`` checks both against jieba on real text.

Characters outside jieba's Han range (U+4E00–U+9FD5) make jieba fall back to other rules, so
such runs go through jieba itself (loaded only then, when rjieba is there).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

_JIEBA_HAN_RUN = re.compile(r"[\u4e00-\u9fd5]+")
_MISSING = object()  # not in the dictionary at all


def compiled_segmenter():
    """The ``rjieba`` module, or None when it is not installed."""
    try:
        import rjieba
    except ImportError:
        return None
    return rjieba


class SearchSegmenter:
    """``segment(run)`` -> list of words, as ``jieba.cut_for_search(run, HMM=False)``.

    ``load_jieba`` returns the initialised jieba module; it is called only when needed (runs
    outside jieba's Han range, or the pure-Python walker). ``compiled=False`` uses the walker even
    when rjieba is installed.
    """

    def __init__(self, load_jieba: Callable, compiled: bool = True):
        self._load_jieba = load_jieba
        self._compiled = compiled_segmenter() if compiled else None
        self._known: dict | None = None
        self._entry: dict | None = None

    def segment(self, run: str) -> list[str]:
        """Search-mode words of ``run`` (the sub-words of long words first, then the word)."""
        if not _JIEBA_HAN_RUN.fullmatch(run):
            return list(self._load_jieba().cut_for_search(run, HMM=False))
        if self._compiled is not None:
            return self._compiled.cut_for_search(run, False)
        if self._entry is None:
            self._load_dictionary()
        out: list[str] = []
        known = self._known
        for word in self._best_route(run):
            size = len(word)
            if size > 2:
                for i in range(size - 1):
                    gram = word[i : i + 2]
                    if known.get(gram):
                        out.append(gram)
            if size > 3:
                for i in range(size - 2):
                    gram = word[i : i + 3]
                    if known.get(gram):
                        out.append(gram)
            out.append(word)
        return out

    def _load_dictionary(self) -> None:
        tokenizer = self._load_jieba().dt
        tokenizer.check_initialized()
        frequencies = tokenizer.FREQ
        log_total = math.log(tokenizer.total)
        self._known = frequencies
        # One look-up per DAG step: a word's log-probability, or None for a prefix that is no word
        # (frequency 0), which only says that a longer word starts here. A character that is no
        # word counts as an unknown word of frequency 1, as in jieba's ``FREQ.get(word) or 1``.
        self._entry = {
            word: (math.log(frequency) - log_total if frequency else None)
            for word, frequency in frequencies.items()
        }
        self._unknown_log_probability = math.log(1) - log_total

    def _best_route(self, run: str) -> list[str]:
        """Most probable split into dictionary words (jieba's DAG + dynamic programming)."""
        entry, unknown, missing = self._entry, self._unknown_log_probability, _MISSING
        n = len(run)
        score = [0.0] * (n + 1)
        end = [0] * (n + 1)  # exclusive end of the best first word from each position
        for start in range(n - 1, -1, -1):
            # Word ends reachable from ``start`` (jieba's DAG row), visited shortest first; ``>=``
            # keeps the longer word on a tie, as jieba's max() over (score, end) tuples does.
            best_score, best_end = None, 0
            stop = start + 1
            log_probability = entry.get(run[start], missing)
            while log_probability is not missing:
                if log_probability is not None:
                    value = log_probability + score[stop]
                    if best_end == 0 or value >= best_score:
                        best_score, best_end = value, stop
                if stop == n:
                    break
                stop += 1
                log_probability = entry.get(run[start:stop], missing)
            if best_end == 0:  # no word starts here: the character alone, as an unknown word
                best_score, best_end = unknown + score[start + 1], start + 1
            score[start], end[start] = best_score, best_end
        words = []
        position = 0
        while position < n:
            stop = end[position]
            words.append(run[position:stop])
            position = stop
        return words

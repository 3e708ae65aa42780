"""Search helpers that work the same on every backend: pinyin forms of Chinese text (to index beside it) and a
vocabulary of indexed words that proposes "did you mean" corrections and turns pinyin into Chinese words.

    vocab = Vocabulary()
    vocab.add_text("核酸检测试剂盒")
    vocab.add_text("高流量呼吸机")
    vocab.did_you_mean("核算检测")   # "核酸检测"  (same sound, other characters)
    vocab.did_you_mean("呼吸鸡")     # "呼吸机"
    vocab.did_you_mean("hes")        # "核酸"      (pinyin prefix)
    pinyin_forms("核酸检测")          # ["hesuan", "hs", "jiance", "jc", "hesuanjiance", "hsjc"]

Pure Python (pypinyin, jieba); nothing here imports Flask or the marketplace.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from .text import has_cjk, normalize, segment_chinese

CJK_RUN_RE = re.compile(r"[\u3400-\u9fff]+")
TOKEN_RE = re.compile(r"[\u3400-\u9fff]+|[a-z0-9]+")
LATIN_WORD_RE = re.compile(r"^[a-z]+$")
MIN_PINYIN_PREFIX = 3  # shorter Latin input says too little to guess a Chinese word from
MAX_TERM_CHARS = 8  # longest Chinese word tried when rewriting a run by its sound


def syllables(text: str) -> list[str]:
    """Toneless pinyin syllables of each character of a Chinese run ("呼吸机" -> ["hu", "xi", "ji"])."""
    return list(_syllables(text))


@lru_cache(maxsize=50_000)  # titles share their words; converting is the slow part of building documents
def _syllables(text: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin  # imported when first needed: loading the dictionary takes time

    return tuple(s.lower() for s in lazy_pinyin(text, style=Style.NORMAL, errors="ignore"))


def _words(text: str) -> list[str]:
    return [w for run in CJK_RUN_RE.findall(text or "") for w in segment_chinese(run) if has_cjk(w)]


def pinyin_forms(*texts: str) -> list[str]:
    """Pinyin of the Chinese words in ``texts``: each word in full and as initials, and each run the same way.

    Meant for a searchable document field, so that "hesuan" or "hsjc" find 核酸检测 on any backend.
    """
    forms: list[str] = []
    for text in texts:
        for run in CJK_RUN_RE.findall(text or ""):
            sounds = _syllables(run)
            if len(sounds) != len(run):
                continue
            pieces, start = [sounds], 0
            for word in segment_chinese(run):  # the words' syllables are slices of the run's (one conversion)
                pieces.append(sounds[start:start + len(word)])
                start += len(word)
            for parts in pieces:
                if parts:
                    forms += ["".join(parts), "".join(p[0] for p in parts)]
    return list(dict.fromkeys(f for f in forms if f))


def edit_distance(a: str, b: str, limit: int = 2) -> int:
    """Levenshtein distance between ``a`` and ``b``, or ``limit + 1`` once it is known to exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


class Vocabulary:
    """The words of the indexed texts, with how often each occurs and its pinyin.

    Build it from the titles and tags every visitor may see (never from private text: its words would leak
    through the corrections).
    """

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._by_sound: dict[tuple[str, ...], list[str]] = {}
        self._by_pinyin: dict[str, list[str]] = {}  # full pinyin and initials -> Chinese words

    def __len__(self) -> int:
        return len(self.counts)

    def __contains__(self, word: str) -> bool:
        return word in self.counts

    def add_text(self, text: str, weight: int = 1) -> None:
        """Count the words of ``text``: jieba words of its Chinese runs, Latin words of three letters or more."""
        text = normalize(text or "")
        for word in _words(text):
            if len(word) >= 2:
                self.add_word(word, weight)
        for word in re.findall(r"[a-z]{3,}", text):
            self.add_word(word, weight)

    def add_word(self, word: str, weight: int = 1) -> None:
        """Count one word as it is (a tag or a synonym that jieba would split)."""
        word = normalize(word).strip()
        if not word:
            return
        if word not in self.counts and has_cjk(word) and CJK_RUN_RE.fullmatch(word):
            parts = tuple(syllables(word))
            if parts:
                self._by_sound.setdefault(parts, []).append(word)
                for key in ("".join(parts), "".join(p[0] for p in parts)):
                    self._by_pinyin.setdefault(key, []).append(word)
        self.counts[word] += weight

    def _best(self, words: Iterable[str]) -> str | None:
        ranked = sorted(set(words), key=lambda w: (-self.counts[w], len(w), w))
        return ranked[0] if ranked else None

    def from_pinyin(self, typed: str, limit: int = 5) -> list[str]:
        """Chinese words whose pinyin is ``typed``, whose initials are, or (3+ letters) that start with it."""
        typed = normalize(typed).replace(" ", "")
        if not LATIN_WORD_RE.match(typed):
            return []
        found = list(self._by_pinyin.get(typed, []))
        if len(typed) >= MIN_PINYIN_PREFIX:
            found += [w for key, words in self._by_pinyin.items() if key.startswith(typed) and key != typed
                      for w in words]
        return sorted(dict.fromkeys(found), key=lambda w: (w not in self._by_pinyin.get(typed, []),
                                                           -self.counts[w], len(w), w))[:limit]

    def _rewrite_run(self, run: str) -> str:
        """A Chinese run rewritten word by word into known words that sound the same (longest first)."""
        sounds = syllables(run)
        if len(sounds) != len(run):
            return run
        out, i = [], 0
        while i < len(run):
            for j in range(min(len(run), i + MAX_TERM_CHARS), i + 1, -1):
                piece = run[i:j]
                if piece in self.counts:
                    out.append(piece)
                    break
                same_sound = self._best(self._by_sound.get(tuple(sounds[i:j]), []))
                if same_sound:
                    out.append(same_sound)
                    break
            else:
                j = i + 1
                out.append(run[i])
            i = j
        return "".join(out)

    def _correct_latin(self, word: str) -> str:
        if word in self.counts or not LATIN_WORD_RE.match(word):
            return word
        chinese = self.from_pinyin(word, limit=1)
        if chinese:
            return chinese[0]
        if len(word) < 4:
            return word
        limit = 1 if len(word) < 7 else 2
        close = [w for w in self.counts if LATIN_WORD_RE.match(w) and edit_distance(word, w, limit) <= limit]
        return self._best(close) or word

    def did_you_mean(self, query: str) -> str | None:
        """The query with its unknown words replaced by the closest known ones, or None when nothing changes."""
        text = normalize(query or "")
        tokens = TOKEN_RE.findall(text)
        if not tokens:
            return None
        fixed = [self._rewrite_run(t) if has_cjk(t) else self._correct_latin(t) for t in tokens]
        if fixed == tokens:
            return None
        out = fixed[0]
        for before, token in zip(fixed, fixed[1:]):
            out += ("" if has_cjk(before[-1]) and has_cjk(token[0]) else " ") + token
        return out

"""Text helpers shared by the backends: normalisation, query parsing for the embedded
backends, typo variants and safe highlighting."""
from __future__ import annotations

import html
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

CJK_RUN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]+")
# Latin/digit words; keeps inner joiners so "covid-19" and "c++" stay one term.
WORD_RE = re.compile(r"[^\W_]+(?:[-+.#'][^\W_]+)*\+*", re.UNICODE)
LATIN_WORD_RE = re.compile(r"[a-z][a-z0-9]*")

MIN_TRIGRAM_LEN = 3  # FTS5 trigram / pg_trgm cannot index shorter substrings
MIN_TYPO_LEN = 5  # like Meilisearch: one typo allowed from 5 characters on
MAX_VARIANTS_TERM_LEN = 24


def normalize(text: str) -> str:
    """NFKC (full-width -> half-width) + casefold: the form stored and searched."""
    return unicodedata.normalize("NFKC", text).casefold()


def has_cjk(text: str) -> bool:
    return CJK_RUN_RE.search(text) is not None


def flatten_text(value) -> str:
    """A field value as one string (lists joined by newlines)."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "\n".join(flatten_text(v) for v in value)
    return str(value)


@dataclass
class TermGroup:
    """One required query term with its acceptable alternatives (synonyms / typo variants).

    A document matches the group if its text contains any alternative as a substring.
    `typo_source` is the latin word typo variants may be computed for.
    """

    alternatives: list[str]
    typo_source: str | None = None
    typo_variants: list[str] = field(default_factory=list)

    @property
    def all_alternatives(self) -> list[str]:
        return [*self.alternatives, *self.typo_variants]


def parse_query(q: str, synonym_groups: Sequence[Sequence[str]] = (), segment_cjk: bool = False) -> list[TermGroup]:
    """Split a query into AND-ed term groups.

    Synonym phrases found in the query become one group holding all equivalents. Chinese
    runs are kept whole (substring match) unless `segment_cjk` asks for jieba words.
    """
    text = normalize(q)
    groups: list[TermGroup] = []
    # Longest synonym phrases first so "nucleic acid test" wins over "test".
    phrases = sorted(
        ((normalize(term), group) for group in synonym_groups for term in group),
        key=lambda item: -len(item[0]),
    )
    for phrase, group in phrases:
        if not phrase.strip():
            continue
        pattern = _phrase_pattern(phrase)
        if pattern.search(text):
            text = pattern.sub(" ", text)
            alternatives = _unique(normalize(t) for t in group)
            groups.append(TermGroup(alternatives))
    for chunk in WORD_RE.findall(text):
        for piece in _split_cjk(chunk, segment_cjk):
            piece = piece.strip("'.-#")
            if not piece:
                continue
            latin = piece if LATIN_WORD_RE.fullmatch(piece) else None
            typo_source = latin if latin and len(latin) >= MIN_TYPO_LEN else None
            groups.append(TermGroup([piece], typo_source))
    return _dedupe_groups(groups)


def _phrase_pattern(phrase: str) -> re.Pattern:
    # Latin phrases must match on word boundaries ("pcr" not inside "pcrx"); CJK anywhere.
    escaped = re.escape(phrase)
    if has_cjk(phrase):
        return re.compile(escaped)
    return re.compile(rf"(?<![^\W_]){escaped}(?![^\W_])")


def _split_cjk(chunk: str, segment: bool) -> list[str]:
    """Separate CJK runs from latin parts of a word ("pcr检测" -> ["pcr", "检测"])."""
    parts: list[str] = []
    position = 0
    for match in CJK_RUN_RE.finditer(chunk):
        if match.start() > position:
            parts.append(chunk[position:match.start()])
        run = match.group()
        parts.extend(segment_chinese(run) if segment else [run])
        position = match.end()
    if position < len(chunk):
        parts.append(chunk[position:])
    return parts


_jieba = None


def segment_chinese(run: str) -> list[str]:
    """jieba words of a Chinese run (lazy import: loading the dictionary takes ~1 s)."""
    global _jieba
    if _jieba is None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        _jieba = jieba
    return [w for w in _jieba.lcut(run) if w.strip()]


def _unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        if item:
            seen.setdefault(item, None)
    return list(seen)


def _dedupe_groups(groups: list[TermGroup]) -> list[TermGroup]:
    seen = set()
    out = []
    for group in groups:
        key = tuple(group.alternatives)
        if key not in seen:
            seen.add(key)
            out.append(group)
    return out


def bigram_token(pair: str) -> str:
    """The index token of two adjacent characters: their code points in hex (ASCII letters and digits
    only, so any tokenizer keeps it whole)."""
    return "x".join(f"{ord(c):x}" for c in pair)


def bigram_tokens(text: str) -> str:
    """The distinct tokens of every two adjacent non-space characters of normalised ``text``, space
    separated: a two-character term occurs in the text exactly when its token is among them."""
    tokens = {bigram_token(text[i:i + 2]) for i in range(len(text) - 1)
              if not text[i].isspace() and not text[i + 1].isspace()}
    return " ".join(sorted(tokens))


def latin_words(text: str) -> set[str]:
    """Vocabulary words used for typo correction (latin words of 4+ characters)."""
    return {w for w in LATIN_WORD_RE.findall(normalize(text)) if 4 <= len(w) <= 40}


def edit1_variants(word: str) -> set[str]:
    """All strings one edit (delete, transpose, replace, insert of a-z0-9) away from `word`.

    Like Meilisearch, the first character is not changed for words under 9 characters
    (a typo there counts double)."""
    if len(word) > MAX_VARIANTS_TERM_LEN:
        return set()
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    start = 0 if len(word) >= 9 else 1
    splits = [(word[:i], word[i:]) for i in range(start, len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    transposes = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in letters}
    inserts = {a + c + b for a, b in splits for c in letters}
    return (deletes | transposes | replaces | inserts) - {word}


# --------------------------------------------------------------------------- highlighting

MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"


def highlight_text(text: str, needles: Sequence[str], crop_chars: int | None = None) -> str | None:
    """HTML-escaped `text` with <mark> around case-insensitive occurrences of `needles`.

    Returns None when nothing matches. Only our own <mark> tags are unescaped, so the
    result is safe to render as HTML. Long text is cropped around the first match.
    """
    needles = [n for n in needles if n]
    if not text or not needles:
        return None
    pattern = re.compile("|".join(re.escape(n) for n in sorted(needles, key=len, reverse=True)), re.IGNORECASE)
    source = unicodedata.normalize("NFKC", text)
    if len(source) != len(text):  # offsets must stay aligned with the original text
        source = text
    matches = list(pattern.finditer(source))
    if not matches:
        return None
    start, end, prefix, suffix = 0, len(text), "", ""
    if crop_chars and len(text) > crop_chars:
        first = matches[0].start()
        start = max(0, first - crop_chars // 3)
        end = min(len(text), start + crop_chars)
        start = max(0, min(start, end - crop_chars))
        prefix = "…" if start > 0 else ""
        suffix = "…" if end < len(text) else ""
    out, position = [prefix], start
    for match in matches:
        m_start, m_end = max(match.start(), start), min(match.end(), end)
        if m_start >= end:
            break
        if m_end <= m_start:
            continue
        out.append(html.escape(text[position:m_start]))
        out.append(MARK_OPEN + html.escape(text[m_start:m_end]) + MARK_CLOSE)
        position = m_end
    out.append(html.escape(text[position:end]))
    out.append(suffix)
    return "".join(out)


def escape_with_sentinels(formatted: str, pre: str, post: str) -> str:
    """Escape text returned by Meilisearch whose matches are wrapped in sentinel strings,
    then turn the sentinels into <mark> tags."""
    marked = html.escape(formatted).replace(html.escape(pre), MARK_OPEN).replace(html.escape(post), MARK_CLOSE)
    return marked.replace(MARK_CLOSE + MARK_OPEN, "")  # merge adjacent words (核酸|检测)

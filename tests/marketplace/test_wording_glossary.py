"""The Chinese catalogue keeps to docs/glossary.md: each checked term has one Chinese rendering everywhere."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "marketplace" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
GLOSSARY = ROOT / "docs" / "glossary.md"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _checked_terms() -> list[tuple[str, str, list[str]]]:
    """(English, 中文, msgid beginnings excepted) from the glossary's "Checked terms" table."""
    text = GLOSSARY.read_text(encoding="utf-8")
    section = text.split("## Checked terms", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] not in ("English", "---"):
            # an exception is the start of a msgid, optionally followed by a note in brackets
            rows.append((cells[0], cells[1], [x.split(" (")[0].strip() for x in cells[2].split(";") if x.strip()]))
    return rows


def _messages():
    with PO.open("rb") as f:
        catalog = read_po(f)
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        msgstr = message.string if isinstance(message.string, str) else (message.string or ("",))[0]
        yield message.context, msgid, msgstr


def test_glossary_lists_checked_terms():
    terms = _checked_terms()
    assert len(terms) >= 10 and ("introduction", "对接", []) in terms


def test_every_message_uses_the_glossary_term():
    problems = []
    messages = list(_messages())
    for english, chinese, excepted in _checked_terms():
        word = re.compile(rf"\b{re.escape(english)}s?\b", re.IGNORECASE)
        for _context, msgid, msgstr in messages:
            if word.search(PLACEHOLDER.sub(" ", msgid)) and chinese not in msgstr \
                    and not any(msgid.startswith(x) for x in excepted):
                problems.append(f"{english} -> {chinese}: {msgid!r} reads {msgstr!r}")
    assert not problems, "\n".join(problems)


def test_no_message_is_left_untranslated_or_fuzzy():
    with PO.open("rb") as f:
        catalog = read_po(f)
    missing = [m.id for m in catalog if m.id and (m.fuzzy or not (m.string if isinstance(m.string, str)
                                                                   else all(m.string)))]
    assert not missing, missing


def test_words_with_two_senses_have_two_translations():
    """The collisions issue 20 found: each sense of the word has its own Chinese."""
    table = {(context, msgid): msgstr for context, msgid, msgstr in _messages()}
    assert table[(None, "Open")] == "征集中" and table[("action", "Open")] == "查看"
    assert table[("follow-up", "Open")] == "待跟进"
    assert table[(None, "Register")] == "注册" and table[("event", "Register")] == "报名"
    assert table[(None, "Capacity")] == "产能" and table[("event", "Capacity")] == "名额"
    assert table[(None, "History")] == "审核记录" and table[("introduction", "History")] == "进展记录"
    assert table[(None, "Why")] == "推荐理由" and table[("stage change", "Why")] == "原因"
    assert table[(None, "Report")] == "报告" and table[("abuse", "Report")] == "举报"
    assert table[(None, "Mark done")] == "标记完成"
    assert table[(None, "Introductions")] != table[(None, "My docking requests")]

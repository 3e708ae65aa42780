"""Pairs that make sense: no organisation is paired with itself (or its declared group), and near-duplicate
offers (one organisation's variants of a product, or near-identical texts across organisations) form one
group shown as its best member with "+N similar".

Works on the engine's ranked matches (``{"offer": id, "score": ...}``) and plain offer records; it never
changes the engine's order, only removes and folds.
"""

from __future__ import annotations

import re
from itertools import pairwise

from .records import as_list

# Same organisation: titles this alike are variants (云端版 / 快速版 / 第二代 ...).
SAME_ORG_SIMILARITY = 0.5
# Different organisations: only near-identical texts are folded together (or the same description under
# the same product name once variant labels such as （第二代） / (Gen 2) are taken off the titles).
CROSS_ORG_SIMILARITY = 0.85
SAME_NAME_SIMILARITY = 0.8
SAME_NAME_DESCRIPTION = 0.7  # descriptions that differ by little more than who offers them
_WORD = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]")
_VARIANT_LABEL = re.compile(r"[（(【\[][^）)】\]]*[）)】\]]")


def group_of(org, org_groups: dict | None) -> str | None:
    """The group an organisation belongs to: the group it declares, else itself (None when unknown)."""
    if org is None or org == "":
        return None
    org = str(org)
    return str((org_groups or {}).get(org) or org)


def exclude_own(need: dict, matches: list[dict], offers: dict[str, dict], org_groups: dict | None = None) -> list[dict]:
    """Drop matches whose offer belongs to the need's organisation or to an organisation of its group."""
    own = group_of(need.get("org"), org_groups)
    if own is None:
        return list(matches)
    return [m for m in matches if group_of((offers.get(str(m["offer"])) or {}).get("org"), org_groups) != own]


def _shingles(text: str) -> set[str]:
    """Character bigrams of Chinese runs and whole English words / numbers (lower-cased)."""
    tokens = _WORD.findall(text.lower())
    out: set[str] = set()
    for left, right in pairwise(tokens):
        if len(left) == 1 and len(right) == 1 and not left.isascii() and not right.isascii():
            out.add(left + right)
    out.update(t for t in tokens if t.isascii())
    return out or set(tokens)


def similarity(left: set[str], right: set[str]) -> float:
    """Jaccard overlap of two shingle sets (0 when either is empty)."""
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


def _title(record: dict) -> str:
    return " ".join(str(record.get(k) or "") for k in ("title", "title_zh", "title_en"))


def _base_title(record: dict) -> str:
    """The product name without its variant label: 移动CT方舱（第二代） -> 移动CT方舱."""
    return " ".join(_VARIANT_LABEL.sub(" ", str(record.get(k) or "")) for k in ("title", "title_zh", "title_en"))


def _description(record: dict) -> str:
    keys = ("summary", "summary_zh", "summary_en", "description_zh", "description_en")
    return " ".join(str(record.get(k) or "") for k in keys) + " " + " ".join(map(str, as_list(record.get("tags"))))


def _body(record: dict) -> str:
    return _title(record) + " " + _description(record)


def _alike(key: tuple, other: tuple) -> bool:
    """Whether two offers' keys (group, title, base title, description, body shingles) make them one group."""
    org, title, base, description, body = key
    other_org, other_title, other_base, other_description, other_body = other
    if org is not None and org == other_org:
        return (similarity(title, other_title) >= SAME_ORG_SIMILARITY
                or similarity(base, other_base) >= SAME_NAME_SIMILARITY)
    if similarity(body, other_body) >= CROSS_ORG_SIMILARITY:
        return True
    return (similarity(base, other_base) >= SAME_NAME_SIMILARITY
            and similarity(description, other_description) >= SAME_NAME_DESCRIPTION)


def group_similar(matches: list[dict], offers: dict[str, dict], org_groups: dict | None = None) -> list[dict]:
    """Fold near-duplicates into the best-ranked member of their group.

    Returns the group leaders in their original order, each with ``similar``: the folded matches (best
    first). Variants of one organisation (or group) are compared by title; offers of different
    organisations only when their whole texts are near-identical.
    """
    leaders: list[dict] = []
    keys: list[tuple] = []
    for match in matches:
        record = offers.get(str(match["offer"])) or {}
        key = (group_of(record.get("org"), org_groups), _shingles(_title(record)), _shingles(_base_title(record)),
               _shingles(_description(record)), _shingles(_body(record)))
        for leader, leader_key in zip(leaders, keys):
            if _alike(key, leader_key):
                leader["similar"].append({**match, "similar": []})
                break
        else:
            leaders.append({**match, "similar": []})
            keys.append(key)
    return leaders

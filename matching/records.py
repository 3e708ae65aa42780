"""Offer / need record conventions.

Records are plain dicts. Recognised keys (all optional except ``id``):

``id``            str or int (normalised to str)
``title``, ``text``, ``summary``, ``description``   free text; the ``_zh`` / ``_en`` variants
                  (``title_zh``, ``title_en``, ``summary_zh``, ...) are read too and analysed together
``tags``          list of keywords
``kind``          offers: technology | product | service | patent | financial (Chinese 新技术/新产品/新服务/专利/金融 ok)
                  needs: procurement | technology_cooperation | manufacturing_supply | testing_lab | financing | space
``org``           organisation name or id (becomes graph node ``org:<org>``); ``org_type`` e.g. manufacturer
``fields``        taxonomy codes (graph nodes ``field:<code>``); ``ipc`` IPC classes (``ipc:<code>``);
``events``        event ids the record was shown at (``event:<id>``)
rule attributes   offers: ``certifications`` / ``regulatory_status``, ``trl``, ``price``, ``lead_time_days``,
                  ``available_from`` (ISO date); needs: ``required_certifications``, ``min_trl``,
                  ``budget``, ``deadline`` (ISO date)
"""

from __future__ import annotations

TEXT_KEYS = ("title", "summary", "description", "text")
LANG_SUFFIXES = ("", "_zh", "_en")

OFFER_KINDS = ("technology", "product", "service", "patent", "financial")
NEED_KINDS = (
    "procurement",
    "technology_cooperation",
    "manufacturing_supply",
    "testing_lab",
    "financing",
    "space",
)

_KIND_SYNONYMS = {
    "新技术": "technology",
    "技术": "technology",
    "tech": "technology",
    "新产品": "product",
    "产品": "product",
    "新服务": "service",
    "服务": "service",
    "专利": "patent",
    "高价值专利": "patent",
    "金融": "financial",
    "金融产品": "financial",
    "finance": "financial",
    "loan": "financial",
    "采购": "procurement",
    "技术合作": "technology_cooperation",
    "生产配套": "manufacturing_supply",
    "检测": "testing_lab",
    "融资": "financing",
    "空间": "space",
    "场地": "space",
}


def normalise_kind(kind) -> str | None:
    """Canonical kind string or None (empty / missing)."""
    if kind is None:
        return None
    key = str(kind).strip()
    if not key:
        return None
    key = _KIND_SYNONYMS.get(key, key).lower().replace("-", "_").replace(" ", "_")
    return _KIND_SYNONYMS.get(key, key)


def record_id(record: dict) -> str:
    """The record's id as a string; ``ValueError`` when missing."""
    value = record.get("id") if isinstance(record, dict) else None
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError("record has no 'id'")
    return str(value)


def as_list(value) -> list:
    """Lists stay lists, scalars become one-element lists, None/"" becomes []."""
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return [v for v in value if v is not None and v != ""]
    return [value]


def record_text(record: dict) -> str:
    """All free text of a record (every language variant) plus its tags, as one string."""
    parts = []
    for key in TEXT_KEYS:
        for suffix in LANG_SUFFIXES:
            value = record.get(key + suffix)
            if value:
                parts.append(str(value))
    parts.extend(str(tag) for tag in as_list(record.get("tags")))
    return "\n".join(parts)


def record_title(record: dict, lang: str = "zh") -> str:
    """Best display title in the requested language."""
    order = ("title_" + lang, "title", "title_en" if lang == "zh" else "title_zh")
    for key in order:
        if record.get(key):
            return str(record[key])
    text = record.get("text") or ""
    return str(text)[:60]


def normalise_tag(tag) -> str:
    return " ".join(str(tag).lower().split())

"""Readable reasons for a match, each in Chinese and English.

A reason is a dict ``{"type": "terms" | "tags" | "graph" | "rule", "zh": ..., "en": ..., "text": <chosen
language>, **data}``; ``data`` keeps the machine-readable bits (terms, path, rule name, outcome).
"""

from __future__ import annotations

import re
from functools import lru_cache

from .graph import node_label, node_type

RELATION_LABELS = {  # relation -> (zh, en)
    "offered_by": ("提供方", "offered by"),
    "posted_by": ("发布方", "posted by"),
    "in_field": ("领域", "field"),
    "ipc_class": ("IPC分类", "IPC class"),
    "shown_at": ("参加活动", "shown at"),
    "mentions": ("提及", "mentions"),
    "partner": ("合作伙伴", "partner"),
    "partner_of": ("合作伙伴", "partner"),
    "supplier": ("供应商", "supplier"),
    "supplier_of": ("供应商", "supplier"),
    "supplies": ("供应", "supplies"),
    "customer": ("客户", "customer"),
    "introduced": ("曾对接", "introduced"),
    "introduction": ("曾对接", "introduced"),
    "deal": ("已成交", "deal"),
    "signed": ("已签约", "signed"),
    "member_of": ("成员", "member of"),
    "cites": ("引用", "cites"),
    "written_by": ("作者", "written by"),
    "asks_for_author": ("指定作者", "asks for author"),
    "cocited_with": ("共同被引", "co-cited with"),
    "coupled_with": ("引文耦合", "bibliographically coupled with"),
    "related": ("关联", "related"),
}
NODE_TYPE_LABELS = {  # node prefix -> (zh, en) used in "same ..." reasons
    "field": ("同一领域", "same field"),
    "ipc": ("同一IPC分类", "same IPC class"),
    "org": ("同一机构", "same organisation"),
    "event": ("同一活动", "same event"),
}
RULE_TEXT = {  # rule -> {outcome: (zh, en)}; formatted with need / offer values
    "kind": {
        1: ("类型匹配：{offer}可满足{need}需求", "kind fits: a {offer} can answer a {need} need"),
        -1: (
            "类型不符：{offer}不能满足{need}需求",
            "kind does not fit: a {offer} cannot answer a {need} need",
        ),
    },
    "certifications": {
        1: ("具备所需认证：{need}", "has the required certifications: {need}"),
        -1: (
            "缺少所需认证：{need}（现有：{offer}）",
            "missing required certifications: {need} (has: {offer})",
        ),
    },
    "trl": {
        1: ("技术成熟度TRL {offer} ≥ 要求 {need}", "maturity TRL {offer} meets the minimum {need}"),
        -1: ("技术成熟度TRL {offer} 低于要求 {need}", "maturity TRL {offer} below the minimum {need}"),
    },
    "budget": {
        1: ("价格 {offer} 在预算 {need} 以内", "price {offer} within budget {need}"),
        -1: ("价格 {offer} 超出预算 {need}", "price {offer} over budget {need}"),
    },
    "deadline": {
        1: ("可在截止日期 {need} 前交付", "can deliver before the deadline {need}"),
        -1: ("无法在截止日期 {need} 前交付", "cannot deliver before the deadline {need}"),
    },
}
KIND_LABELS = {
    "technology": ("技术", "technology"),
    "product": ("产品", "product"),
    "service": ("服务", "service"),
    "patent": ("专利", "patent"),
    "financial": ("金融产品", "financial product"),
    "procurement": ("采购", "procurement"),
    "technology_cooperation": ("技术合作", "technology cooperation"),
    "manufacturing_supply": ("生产配套", "manufacturing supply"),
    "testing_lab": ("检测", "testing lab"),
    "financing": ("融资", "financing"),
    "space": ("空间场地", "space"),
}


CERT_LABELS = {  # normalised certification code -> (zh, en)
    "nmpa": ("NMPA注册证", "NMPA registration"),
    "ce": ("CE认证", "CE marking"),
    "fda": ("FDA认证", "FDA clearance"),
    "emergency": ("应急审批", "emergency approval"),
    "none": ("无需注册", "no registration needed"),
}
# Words too common in this marketplace to explain a match (units, generic nouns, function words).
STOP_TERMS_ZH = frozenset(
    "万元 元 亿元 公司 有限公司 企业 需要 需求 提供 我们 可以 进行 用于 以及 相关 一个 一种 采购 产品 技术 服务 "
    "系统 项目 要求 支持 能力 方案 合作 具有 通过 实现 主要 包括 应用 领域 新型 国内 国际 中国 北京 设备 快速".split()
)
STOP_TERMS_EN = frozenset(
    "a an and are as at be by for from has have in into is it its of on or our that the their this to we with "
    "product products production system systems service services technology technologies need needs supply "
    "provide provides using use used new based high low can will million billion rmb yuan year years month "
    "months day days week weeks maker makers company companies firm firms".split()
)
# Amounts and durations written in Chinese (一年, 两天, 三个月, 100万) say nothing about what is offered.
_QUANTITY_ZH = re.compile(r"^[0-9一二两三四五六七八九十百千万亿半几多]+(个)?[年月天日周元万亿件台套次]?$")
_CJK = re.compile(r"[\u3400-\u9fff]")


def is_chinese(term: str) -> bool:
    """True when the term contains Chinese characters."""
    return bool(_CJK.search(term))


def meaningful_terms(terms) -> list[str]:
    """Shared terms worth showing: no single Chinese characters, no lone letters or numbers, no stop words."""
    out = []
    for term in terms or []:
        term = str(term).strip()
        if _is_meaningful(term) and term not in out:
            out.append(term)
    return out


@lru_cache(maxsize=100_000)
def _is_meaningful(term: str) -> bool:
    if not term or term.lower() in STOP_TERMS_EN or term in STOP_TERMS_ZH:
        return False
    if is_chinese(term):
        return len(term) >= 2 and not _QUANTITY_ZH.match(term)
    return len(term) >= 2 and any(ch.isalpha() for ch in term)


def cert_label(code, zh: bool) -> str:
    """Readable name of a certification code (the code itself when unknown)."""
    key = "".join(ch for ch in str(code).lower() if ch.isalnum())
    labels = CERT_LABELS.get(key)
    return (labels[0] if zh else labels[1]) if labels else str(code)


def _reason(kind: str, zh: str, en: str, lang: str, **data) -> dict:
    return {"type": kind, "zh": zh, "en": en, "text": zh if lang == "zh" else en, **data}


def terms_reason(terms: list[str], lang: str) -> dict | None:
    """Shared words between need and offer, each language showing the terms written in it where there are
    any; None when no meaningful term is left."""
    terms = meaningful_terms(terms)
    if not terms:
        return None
    zh_terms = [t for t in terms if is_chinese(t)] or terms
    en_terms = [t for t in terms if not is_chinese(t)] or terms
    return _reason(
        "terms", "共同关键词：" + "、".join(zh_terms), "shared terms: " + ", ".join(en_terms), lang, terms=terms
    )


def tags_reason(tags: list[str], lang: str) -> dict:
    return _reason("tags", "共同标签：" + "、".join(tags), "shared tags: " + ", ".join(tags), lang, tags=tags)


def _relation(relation: str, zh: bool) -> str:
    labels = RELATION_LABELS.get(relation)
    if labels:
        return labels[0] if zh else labels[1]
    return relation.replace("_", " ") if relation else ("关联" if zh else "related")


def graph_reason(path: list[tuple[str, str]], lang: str) -> dict:
    """Reason from a path [(node name, relation into it)] that starts at a node reached from the
    need and ends at the offer."""
    names = [node for node, _ in path]
    relations = [relation for _, relation in path]
    first = names[0]
    if len(path) == 1:  # the need is linked to this very offer
        zh = f"已有关联：{_relation(relations[0], True)}"
        en = f"already linked to this need: {_relation(relations[0], False)}"
    elif len(path) == 2 and node_type(first) in NODE_TYPE_LABELS and relations[0] != "mentions":
        zh_label, en_label = NODE_TYPE_LABELS[node_type(first)]
        zh, en = f"{zh_label}：{node_label(first)}", f"{en_label}: {node_label(first)}"
    elif len(path) == 2 and relations[0] == "mentions":
        zh = f"需求中提到的“{node_label(first)}”与之相关（{_relation(relations[1], True)}）"
        en = f'related to "{node_label(first)}" named in the need ({_relation(relations[1], False)})'
    elif len(path) >= 3 and node_type(first) == "org" and all(node_type(n) == "org" for n in names[1:-1]):
        # A chain of organisations from the need's own: "your supplier X's partner Y".
        chain = list(zip(names[1:-1], relations[1:-1]))
        zh = "来自您的" + "的".join(f"{_relation(r, True)}“{node_label(n)}”" for n, r in chain)
        en = "from your " + "'s ".join(f"{_relation(r, False)} {node_label(n)}" for n, r in chain)
    else:
        zh_steps = [f"{_relation(r, True)} {node_label(n)}" for n, r in path[:-1]]
        en_steps = [f"{_relation(r, False)} {node_label(n)}" for n, r in path[:-1]]
        zh = "图谱关联：需求 → " + " → ".join(zh_steps) + f" → （{_relation(relations[-1], True)}）本项目"
        en = (
            "graph path: need → "
            + " → ".join(en_steps)
            + f" → ({_relation(relations[-1], False)}) this offer"
        )
    return _reason("graph", zh, en, lang, path=[{"node": n, "relation": r} for n, r in path])


def neighbour_reason(title: str, offer_id: str, relation: str, lang: str) -> dict:
    """Offer linked in the graph to another strong text match."""
    zh = f"与高匹配项目“{title}”相关（{_relation(relation, True)}）"
    en = f'linked ({_relation(relation, False)}) to the close match "{title}"'
    return _reason("graph", zh, en, lang, via_offer=offer_id, relation=relation)


def _format_value(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(v) for v in value) or "-"
    return str(value)


def rule_reason(rule: str, outcome: int, need_value, offer_value, lang: str) -> dict:
    """Rule met (+1) or failed (-1), with the values compared."""
    if rule == "kind":
        need_value = KIND_LABELS.get(need_value, (need_value, need_value))
        offer_value = KIND_LABELS.get(offer_value, (offer_value, offer_value))
        zh = RULE_TEXT[rule][outcome][0].format(need=need_value[0], offer=offer_value[0])
        en = RULE_TEXT[rule][outcome][1].format(need=need_value[1], offer=offer_value[1])
    elif rule == "certifications":
        zh = RULE_TEXT[rule][outcome][0].format(
            need="、".join(cert_label(c, True) for c in need_value or []) or "-",
            offer="、".join(cert_label(c, True) for c in offer_value or []) or "无",
        )
        en = RULE_TEXT[rule][outcome][1].format(
            need=", ".join(cert_label(c, False) for c in need_value or []) or "-",
            offer=", ".join(cert_label(c, False) for c in offer_value or []) or "none",
        )
    else:
        need_text, offer_text = _format_value(need_value), _format_value(offer_value)
        zh = RULE_TEXT[rule][outcome][0].format(need=need_text, offer=offer_text)
        en = RULE_TEXT[rule][outcome][1].format(need=need_text, offer=offer_text)
    return _reason("rule", zh, en, lang, rule=rule, met=outcome > 0)

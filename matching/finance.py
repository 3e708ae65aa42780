"""Fit between a financing seeker (a financing need, or a firm's profile when it posted none) and a financial
product: amount within range, term, rate ceiling, collateral, eligibility (firm size, registered in the park,
field, stage) and, for equity investors, their focus (fields, stages, ticket size).

Seeker keys (all optional): ``amount`` (RMB), ``term_months``, ``max_rate_pct``, ``collateral`` (True: can
pledge collateral or bring a guarantee), ``size_class``, ``in_park``, ``fields``, ``stage``.
Product keys: ``product_type``, ``amount_min`` / ``amount_max``, ``ticket_min`` / ``ticket_max`` (investment),
``term_min`` / ``term_max``, ``rate_min`` / ``rate_max``, ``collateral_required``, ``eligible_sizes``,
``park_only``, ``eligible_fields`` / ``invest_fields``, ``eligible_stages`` / ``invest_stages``.

Each rule gives +1 met, -1 failed or 0 (cannot tell: a value missing on either side).
"""

from __future__ import annotations

import math

from .records import as_list

FINANCE_RULES = ("amount", "term", "rate", "collateral", "size", "park", "field", "stage")
# Failing one of these makes the product unusable for the seeker; the others only lower the fit.
DEFAULT_HARD_FINANCE_RULES = frozenset({"amount", "collateral", "size", "park"})


def _num(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _within(value, low, high) -> int:
    value, low, high = _num(value), _num(low), _num(high)
    if value is None or (low is None and high is None):
        return 0
    if low is not None and value < low:
        return -1
    if high is not None and value > high:
        return -1
    return 1


def _field_fits(wanted: list[str], have: list[str]) -> bool:
    """A product field ``D1`` covers a firm's ``D1.devices`` (taxonomy codes are dotted paths)."""
    for code in have:
        for target in wanted:
            if code == target or code.startswith(target + ".") or target.startswith(code + "."):
                return True
    return False


def finance_outcomes(seeker: dict, product: dict) -> list[tuple[str, int, object, object]]:
    """``(rule, outcome, seeker value, product value)`` for each rule that applies."""
    out: list[tuple[str, int, object, object]] = []
    investment = product.get("product_type") == "investment"
    low = product.get("ticket_min" if investment else "amount_min")
    high = product.get("ticket_max" if investment else "amount_max")
    outcome = _within(seeker.get("amount"), low, high)
    if outcome:
        out.append(("amount", outcome, seeker.get("amount"), (low, high)))
    outcome = _within(seeker.get("term_months"), product.get("term_min"), product.get("term_max"))
    if outcome:
        out.append(("term", outcome, seeker.get("term_months"), (product.get("term_min"), product.get("term_max"))))
    ceiling, rate = _num(seeker.get("max_rate_pct")), _num(product.get("rate_min"))
    if ceiling is not None and rate is not None:
        out.append(("rate", 1 if rate <= ceiling else -1, ceiling, rate))
    if product.get("collateral_required") and seeker.get("collateral") is not None:
        out.append(("collateral", 1 if seeker["collateral"] else -1, bool(seeker["collateral"]), True))
    sizes = [str(s) for s in as_list(product.get("eligible_sizes"))]
    if sizes and seeker.get("size_class"):
        out.append(("size", 1 if seeker["size_class"] in sizes else -1, seeker["size_class"], sizes))
    if product.get("park_only") and seeker.get("in_park") is not None:
        out.append(("park", 1 if seeker["in_park"] else -1, bool(seeker["in_park"]), True))
    fields = [str(f) for f in as_list(product.get("eligible_fields")) + as_list(product.get("invest_fields"))]
    have = [str(f) for f in as_list(seeker.get("fields"))]
    if fields and have:
        out.append(("field", 1 if _field_fits(fields, have) else -1, have, fields))
    stages = [str(s) for s in as_list(product.get("eligible_stages")) + as_list(product.get("invest_stages"))]
    if stages and seeker.get("stage"):
        out.append(("stage", 1 if seeker["stage"] in stages else -1, seeker["stage"], stages))
    return out


def fit_score(outcomes: list[tuple[str, int, object, object]]) -> float:
    """(met - failed) / applicable, in [-1, 1]; 0 when no rule applies."""
    if not outcomes:
        return 0.0
    return sum(o[1] for o in outcomes) / len(outcomes)


def hard_failed(outcomes, hard=DEFAULT_HARD_FINANCE_RULES) -> list[str]:
    """Names of the hard rules the pairing fails."""
    return [rule for rule, outcome, _, _ in outcomes if outcome < 0 and rule in hard]


# -- wording ---------------------------------------------------------------------------------------
FINANCE_TEXT = {  # rule -> {outcome: (zh, en)}, formatted with the seeker's and the product's values
    "amount": {1: ("所需金额{need}在产品额度{offer}以内", "amount needed {need} within the product's range {offer}"),
               -1: ("所需金额{need}不在产品额度{offer}以内", "amount needed {need} outside the product's range {offer}")},
    "term": {1: ("期限{need}个月在产品期限{offer}个月以内", "term of {need} months within the product's {offer} months"),
             -1: ("期限{need}个月不在产品期限{offer}个月以内", "term of {need} months outside the product's {offer} months")},
    "rate": {1: ("利率{offer}%不高于可接受的{need}%", "rate {offer}% within the ceiling of {need}%"),
             -1: ("利率{offer}%高于可接受的{need}%", "rate {offer}% above the ceiling of {need}%")},
    "collateral": {1: ("产品要求抵押或担保，可提供", "collateral or guarantee required, and available"),
                   -1: ("产品要求抵押或担保，无法提供", "collateral or guarantee required, not available")},
    "size": {1: ("企业规模符合：{need}", "firm size eligible: {need}"),
             -1: ("企业规模不符合：{need}（面向{offer}）", "firm size not eligible: {need} (for {offer})")},
    "park": {1: ("已在园区注册，符合条件", "registered in the park, as required"),
             -1: ("仅面向园区注册企业", "only for firms registered in the park")},
    "field": {1: ("所属领域符合：{offer}", "field within the product's focus: {offer}"),
              -1: ("所属领域不在产品范围：{offer}", "field outside the product's focus: {offer}")},
    "stage": {1: ("发展阶段符合：{need}", "stage within the product's focus: {need}"),
              -1: ("发展阶段不符：{need}（面向{offer}）", "stage outside the product's focus: {need} (for {offer})")},
}
SIZE_LABELS = {"micro": ("微型", "micro"), "small": ("小型", "small"), "medium": ("中型", "medium"),
               "large": ("大型", "large")}
STAGE_LABELS = {"seed": ("种子期", "seed"), "angel": ("天使轮", "angel"), "early": ("早期", "early stage"),
                "growth": ("成长期", "growth stage"), "late": ("后期", "late stage")}


def _money(value, zh: bool) -> str:
    value = _num(value)
    if value is None:
        return ""
    if zh:
        return f"{value / 10000:,.0f}万元" if value >= 10000 else f"{value:,.0f}元"
    return f"RMB {value:,.0f}"


def _range(low, high, fmt) -> str:
    low_text, high_text = fmt(low), fmt(high)
    if low_text and high_text:
        return f"{low_text}–{high_text}"
    return f"≥{low_text}" if low_text else f"≤{high_text}"


def _plain(value, zh: bool) -> str:
    number = _num(value)
    if number is None:
        return ""
    return f"{number:g}"


def _labels(values, table: dict, zh: bool, labeller=None) -> str:
    out = []
    for value in as_list(values):
        if labeller is not None:
            out.append(labeller(value, zh))
        else:
            pair = table.get(str(value))
            out.append(pair[0 if zh else 1] if pair else str(value))
    return ("、" if zh else ", ").join(out)


def finance_reason(rule: str, outcome: int, need_value, offer_value, lang: str, field_label=None) -> dict:
    """A financing rule met (+1) or failed (-1), in both languages; ``field_label(code, zh)`` names fields."""
    texts = {}
    for zh in (True, False):
        if rule == "amount":
            need_text = _money(need_value, zh)
            offer_text = _range(*offer_value, lambda v, zh=zh: _money(v, zh))
        elif rule in ("term", "rate"):
            need_text = _plain(need_value, zh)
            offer_text = (_range(*offer_value, lambda v, zh=zh: _plain(v, zh)) if rule == "term"
                          else _plain(offer_value, zh))
        elif rule == "size":
            need_text, offer_text = _labels(need_value, SIZE_LABELS, zh), _labels(offer_value, SIZE_LABELS, zh)
        elif rule == "stage":
            need_text, offer_text = _labels(need_value, STAGE_LABELS, zh), _labels(offer_value, STAGE_LABELS, zh)
        elif rule == "field":
            need_text = _labels(need_value, {}, zh, field_label)
            offer_text = _labels(offer_value, {}, zh, field_label)
        else:
            need_text = offer_text = ""
        template = FINANCE_TEXT[rule][outcome][0 if zh else 1]
        texts[zh] = template.format(need=need_text, offer=offer_text)
    return {"type": "rule", "zh": texts[True], "en": texts[False], "text": texts[lang == "zh"], "rule": rule,
            "met": outcome > 0, "values": {"need": _jsonable(need_value), "offer": _jsonable(offer_value)}}


def _jsonable(value):
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return value

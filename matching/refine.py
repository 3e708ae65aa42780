"""Post-processing of the engine's ranked matches for one need: drop pairs that make no sense, apply the
financing and certification rules, fold near-duplicates and attach a calibrated strength.

``refine`` is a step around ``MatchingEngine.rank`` (ask the engine for a few times ``top_k`` so enough remain):
offers are plain records (as given to ``fit``) keyed by id, with these extra keys read here: ``org`` (for
self-pairs), ``certifications`` / ``regulatory_status`` and ``finance`` (the product's terms, see
``finance``). Needs may carry ``allow_uncertified`` (keep offers without the required certification, flagged)
and the financing keys ``amount``, ``term_months``, ``max_rate_pct``, ``collateral``, ``size_class``,
``in_park``, ``stage``.
"""

from __future__ import annotations

from . import finance
from .calibration import Calibration, band, need_length
from .grouping import exclude_own, group_similar
from .records import as_list, normalise_kind
from .rules import normalise_certification

# Need kinds for which a stated certification is a hard rule unless the need allows uncertified offers.
CERTIFICATION_HARD_KINDS = frozenset({"procurement", "manufacturing_supply", "testing_lab"})
FINANCE_WEIGHT = 0.5
NOT_CERTIFIED = "not_certified"


def seeker_of(need: dict) -> dict:
    """The financing seeker described by a need record."""
    amount = need.get("amount") if need.get("amount") is not None else need.get("budget")
    return {"amount": amount, "term_months": need.get("term_months"), "max_rate_pct": need.get("max_rate_pct"),
            "collateral": need.get("collateral"), "size_class": need.get("size_class"),
            "in_park": need.get("in_park"), "fields": need.get("fields"), "stage": need.get("stage")}


def _certified(need: dict, offer: dict) -> bool | None:
    required = {normalise_certification(c) for c in as_list(need.get("required_certifications"))} - {"", "none"}
    if not required:
        return None
    have = {normalise_certification(c)
            for c in as_list(offer.get("certifications")) + as_list(offer.get("regulatory_status"))}
    return required.issubset(have)


def _finance(need: dict, match: dict, offer: dict, lang: str, field_label) -> dict | None:
    """The match with the financing rules applied, or None when it fails a hard one."""
    outcomes = finance.finance_outcomes(seeker_of(need), offer.get("finance") or {})
    if finance.hard_failed(outcomes):
        return None
    fit = finance.fit_score(outcomes)
    reasons = [r for r in match.get("reasons", []) if r.get("rule") not in ("budget", "deadline")]
    reasons += [finance.finance_reason(rule, outcome, need_value, offer_value, lang, field_label)
                for rule, outcome, need_value, offer_value in outcomes]
    parts = {**match.get("parts", {}), "fit": round(fit, 4)}
    return {**match, "score": float(match["score"]) + FINANCE_WEIGHT * fit, "parts": parts, "reasons": reasons}


def refine(need: dict, matches: list[dict], offers: dict[str, dict], *, org_groups: dict | None = None,
           calibration: Calibration | None = None, top_k: int = 10, lang: str = "zh",
           field_label=None) -> list[dict]:
    """The need's matches that make sense, best first: at most ``top_k`` group leaders, each with ``similar``
    (folded near-duplicates), ``flags`` and, when a calibration is given, ``strength`` (0-100) and ``band``."""
    need_kind = normalise_kind(need.get("kind"))
    out = []
    for match in exclude_own(need, matches, offers, org_groups):
        offer = offers.get(str(match["offer"])) or {}
        match = {**match, "flags": list(match.get("flags", []))}
        certified = _certified(need, offer)
        if certified is False:
            if need_kind in CERTIFICATION_HARD_KINDS and not need.get("allow_uncertified"):
                continue
            match["flags"].append(NOT_CERTIFIED)
        if need_kind == "financing" and normalise_kind(offer.get("kind")) == "financial":
            match = _finance(need, match, offer, lang, field_label)
            if match is None:
                continue
        out.append(match)
    out.sort(key=lambda m: -float(m["score"]))
    leaders = group_similar(out, offers, org_groups)[:top_k]
    if calibration is not None:
        apply_strength(leaders, calibration, need_length(need))
    return leaders


def apply_strength(matches: list[dict], calibration: Calibration, length: int | None = None) -> None:
    """Set ``strength`` and ``band`` on matches and their folded ``similar`` ones, in place; ``length`` is the
    need's ``calibration.need_length`` (picks the calibration's need-length stratum)."""
    for match in matches:
        match["strength"] = calibration.strength(float(match["score"]), length)
        match["band"] = band(match["strength"])
        apply_strength(match.get("similar", []), calibration, length)

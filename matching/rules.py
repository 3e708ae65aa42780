"""Fit rules between a need and an offer: kind compatibility plus certification, maturity (TRL),
budget and deadline checks.

Each rule gives, per (need, offer) pair, +1 (met), -1 (failed) or 0 (not applicable: an attribute
is missing on either side). Rules named in ``hard`` remove failing offers; the others only lower
the score through the ``rules`` score part. Every applicable rule shows up in the reasons.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from .records import as_list, normalise_kind

# Which offer kinds can answer which need kind (a need without a kind matches every offer).
KIND_FIT: dict[str, frozenset[str]] = {
    "procurement": frozenset({"product"}),
    "technology_cooperation": frozenset({"technology", "patent"}),
    "manufacturing_supply": frozenset({"product", "service"}),
    "testing_lab": frozenset({"service"}),
    "financing": frozenset({"financial"}),
    "space": frozenset({"service"}),
}
KIND_FIT_ANY_KIND = frozenset().union(*KIND_FIT.values())  # offer kinds the table knows about
# manufacturing_supply wants services *of manufacturers*; other org types offering services don't fit.
MANUFACTURER_TYPES = frozenset(
    {"manufacturer", "firm", "company", "enterprise", "factory", "制造商", "企业", "工厂"}
)

RULE_NAMES = ("kind", "certifications", "trl", "budget", "deadline")
DEFAULT_HARD_RULES = frozenset({"kind"})


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return np.nan


def _date_ordinal(value) -> float:
    if isinstance(value, dt.datetime):
        return float(value.date().toordinal())
    if isinstance(value, dt.date):
        return float(value.toordinal())
    if isinstance(value, str) and value.strip():
        try:
            return float(dt.date.fromisoformat(value.strip()[:10]).toordinal())
        except ValueError:
            return np.nan
    return np.nan


def normalise_certification(value) -> str:
    """'CE', 'ce ', 'C.E.' and 'CE-marked' style variants compare equal on letters and digits."""
    text = str(value).lower()
    for suffix in ("marking", "marked", "mark", "认证", "注册证"):
        text = text.replace(suffix, "")
    return "".join(ch for ch in text if ch.isalnum())


def kind_compatible(need_kind, offer_kind, offer_org_type=None) -> bool:
    """True when an offer of ``offer_kind`` can answer a need of ``need_kind``.

    Unknown or missing kinds on either side are compatible (we cannot tell).
    """
    need_kind, offer_kind = normalise_kind(need_kind), normalise_kind(offer_kind)
    if need_kind not in KIND_FIT or offer_kind not in KIND_FIT_ANY_KIND:
        return True
    if offer_kind not in KIND_FIT[need_kind]:
        return False
    if need_kind == "manufacturing_supply" and offer_kind == "service" and offer_org_type:
        return str(offer_org_type).strip().lower() in MANUFACTURER_TYPES
    return True


class OfferRuleTable:
    """Rule attributes of the fitted offers as arrays, so a need is checked against many
    candidates at once."""

    def __init__(self, offers: list[dict]):
        self.kinds = [normalise_kind(o.get("kind")) for o in offers]
        self.org_types = [o.get("org_type") for o in offers]
        self.certifications = [
            sorted(
                {
                    normalise_certification(c)
                    for c in as_list(o.get("certifications")) + as_list(o.get("regulatory_status"))
                }
                - {""}
            )
            for o in offers
        ]
        self.cert_labels = [
            [str(c) for c in as_list(o.get("certifications")) + as_list(o.get("regulatory_status"))]
            for o in offers
        ]
        self.trl = np.array([_number(o.get("trl")) for o in offers], dtype=np.float64)
        self.price = np.array([_number(o.get("price")) for o in offers], dtype=np.float64)
        self.lead_time = np.array([_number(o.get("lead_time_days")) for o in offers], dtype=np.float64)
        self.available_from = np.array(
            [_date_ordinal(o.get("available_from")) for o in offers], dtype=np.float64
        )
        self._kind_masks: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.kinds)

    # -- persistence ---------------------------------------------------------------------------
    def state(self) -> dict:
        def floats(array):
            return [None if np.isnan(v) else float(v) for v in array]

        return {
            "kinds": self.kinds,
            "org_types": self.org_types,
            "certifications": self.certifications,
            "cert_labels": self.cert_labels,
            "trl": floats(self.trl),
            "price": floats(self.price),
            "lead_time": floats(self.lead_time),
            "available_from": floats(self.available_from),
        }

    @classmethod
    def from_state(cls, state: dict) -> OfferRuleTable:
        table = cls([])
        table.kinds, table.org_types = state["kinds"], state["org_types"]
        table.certifications, table.cert_labels = state["certifications"], state["cert_labels"]
        for name in ("trl", "price", "lead_time", "available_from"):
            setattr(
                table, name, np.array([np.nan if v is None else v for v in state[name]], dtype=np.float64)
            )
        return table

    def extended(self, other: OfferRuleTable) -> OfferRuleTable:
        """A new table: these offers, then ``other``'s (for offers added to a fitted engine)."""
        table = OfferRuleTable([])
        table.kinds, table.org_types = self.kinds + other.kinds, self.org_types + other.org_types
        table.certifications = self.certifications + other.certifications
        table.cert_labels = self.cert_labels + other.cert_labels
        for name in ("trl", "price", "lead_time", "available_from"):
            setattr(table, name, np.concatenate([getattr(self, name), getattr(other, name)]))
        return table

    # -- checks --------------------------------------------------------------------------------
    def kind_mask(self, need_kind) -> np.ndarray | None:
        """Boolean mask of offers whose kind fits ``need_kind``; None when every offer fits."""
        need_kind = normalise_kind(need_kind)
        if need_kind is None or need_kind not in KIND_FIT:
            return None
        if need_kind not in self._kind_masks:
            fitting = KIND_FIT[need_kind]
            # Offer kinds are already normalised; only the manufacturer case needs the full check.
            mask = np.fromiter(
                (
                    kind not in KIND_FIT_ANY_KIND
                    or (kind in fitting and (org_type is None or kind_compatible(need_kind, kind, org_type)))
                    for kind, org_type in zip(self.kinds, self.org_types)
                ),
                bool,
                len(self.kinds),
            )
            self._kind_masks[need_kind] = mask
        return self._kind_masks[need_kind]

    def outcomes(self, need: dict, candidates: np.ndarray, as_of: dt.date) -> dict[str, np.ndarray]:
        """Per rule, an array over ``candidates`` of +1 met / -1 failed / 0 not applicable."""
        n = len(candidates)
        out: dict[str, np.ndarray] = {}
        need_kind = normalise_kind(need.get("kind"))
        if need_kind in KIND_FIT:
            mask = self.kind_mask(need_kind)
            if getattr(self, "_kind_known_of", None) is not self.kinds:  # once per list of offer kinds
                self._kind_known = np.array([kind in KIND_FIT_ANY_KIND for kind in self.kinds], dtype=bool)
                self._kind_known_of = self.kinds
            known = self._kind_known[candidates]
            out["kind"] = np.where(known, np.where(mask[candidates], 1.0, -1.0), 0.0)
        required = {normalise_certification(c) for c in as_list(need.get("required_certifications"))} - {"", "none"}
        if required:
            # An offer stating no certification does not have the required one: it fails, it is not unknown.
            out["certifications"] = np.array(
                [1.0 if required.issubset(self.certifications[i]) else -1.0 for i in candidates], dtype=np.float64
            ).reshape(n)
        out["trl"] = self._compare(self.trl[candidates], _number(need.get("min_trl")), at_least=True)
        out["budget"] = self._compare(self.price[candidates], _number(need.get("budget")), at_least=False)
        deadline = _date_ordinal(need.get("deadline"))
        if not np.isnan(deadline):
            # Ready date: the later of "today + lead time" and "available from"; fmax ignores missing values.
            ready = np.fmax(as_of.toordinal() + self.lead_time[candidates], self.available_from[candidates])
            out["deadline"] = np.where(np.isnan(ready), 0.0, np.where(ready <= deadline, 1.0, -1.0))
        return {name: values for name, values in out.items() if np.any(values != 0)}

    @staticmethod
    def _compare(offer_values: np.ndarray, need_value: float, at_least: bool) -> np.ndarray:
        if np.isnan(need_value):
            return np.zeros(len(offer_values))
        ok = offer_values >= need_value if at_least else offer_values <= need_value
        return np.where(np.isnan(offer_values), 0.0, np.where(ok, 1.0, -1.0))


def rule_score(outcomes: dict[str, np.ndarray], n: int) -> np.ndarray:
    """Soft score part in [-1, 1]: (met - failed) / applicable, 0 where no rule applies."""
    if not outcomes:
        return np.zeros(n)
    stacked = np.vstack(list(outcomes.values()))
    applicable = np.count_nonzero(stacked, axis=0)
    return np.where(applicable > 0, stacked.sum(axis=0) / np.maximum(applicable, 1), 0.0)


def hard_failures(outcomes: dict[str, np.ndarray], hard: frozenset[str], n: int) -> np.ndarray:
    """Boolean array: candidate fails at least one hard rule."""
    failed = np.zeros(n, dtype=bool)
    for name in hard:
        if name in outcomes:
            failed |= outcomes[name] < 0
    return failed

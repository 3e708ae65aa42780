"""Transparent high-value patent scoring: a weighted sum of normalised value indicators operators can tune."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

DEFAULT_WEIGHTS = {
    "legal_status": 20.0,        # granted patents are worth most; pending less; lapsed nothing
    "remaining_term": 15.0,      # years left of the 20-year invention term (10 for utility models)
    "claims": 10.0,              # breadth of protection
    "citations": 15.0,           # forward citations signal technical influence
    "family_size": 10.0,         # filings abroad signal commercial intent
    "transfer_willingness": 15.0,
    "market_prospect": 15.0,
}
LEGAL_STATUS_VALUE = {"granted": 1.0, "pending": 0.5, "lapsed": 0.0, "invalid": 0.0, "expired": 0.0}


@dataclass
class PatentIndicators:
    legal_status: str
    filing_date: date | None
    patent_type: str = "invention"
    claims_count: int = 0
    citations: int = 0
    family_size: int = 1
    transfer_willingness: int = 3
    market_prospect: int = 3
    parts: dict = field(default_factory=dict)


def normalised_parts(ind: PatentIndicators, today: date | None = None) -> dict[str, float]:
    """Each indicator mapped to 0..1 (documented caps, so operators can reason about them)."""
    today = today or date.today()
    term_years = 20 if ind.patent_type in ("invention", "pct_invention") else 10
    if ind.filing_date:
        remaining = term_years - (today - ind.filing_date).days / 365.25
    else:
        remaining = term_years / 2
    return {
        "legal_status": LEGAL_STATUS_VALUE.get(ind.legal_status, 0.0),
        "remaining_term": max(0.0, min(1.0, remaining / term_years)),
        "claims": min(ind.claims_count or 0, 20) / 20,
        "citations": min(ind.citations or 0, 30) / 30,
        "family_size": min(max((ind.family_size or 1) - 1, 0), 9) / 9,
        "transfer_willingness": (min(max(ind.transfer_willingness or 1, 1), 5) - 1) / 4,
        "market_prospect": (min(max(ind.market_prospect or 1, 1), 5) - 1) / 4,
    }


def value_score(ind: PatentIndicators, weights: dict | None = None, today: date | None = None) -> tuple[float, dict]:
    """Score 0..100 and the weighted contribution of each indicator."""
    weights = weights or DEFAULT_WEIGHTS
    parts = normalised_parts(ind, today)
    total_weight = sum(weights.values()) or 1.0
    contributions = {k: 100.0 * weights.get(k, 0.0) * v / total_weight for k, v in parts.items()}
    return round(sum(contributions.values()), 2), contributions


# PatentDetail attributes in the order of PatentIndicators' fields (rescoring reads just these columns).
INDICATOR_ATTRIBUTES = ("legal_status", "filing_date", "patent_type", "claims_count", "citations", "family_size",
                        "transfer_willingness", "market_prospect")


def indicators_of(detail) -> PatentIndicators:
    """Indicators from a PatentDetail row."""
    return PatentIndicators(legal_status=detail.legal_status, filing_date=detail.filing_date,
                            patent_type=detail.patent_type, claims_count=detail.claims_count,
                            citations=detail.citations, family_size=detail.family_size,
                            transfer_willingness=detail.transfer_willingness, market_prospect=detail.market_prospect)

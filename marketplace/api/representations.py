"""Rows → plain dicts shaped like the response schemas, with the viewer's access rules applied."""
from __future__ import annotations

from flask import url_for
from flask_babel import get_locale

from marketplace.services import confidentiality

OFFER_DETAIL_KEYS = ("description_zh", "description_en", "problem_zh", "problem_en", "advantage_zh", "advantage_en",
                     "scenarios_zh", "scenarios_en", "regulatory_statuses", "partnership_modes", "ip_status",
                     "price_terms", "capacity", "lead_time_days")
PATENT_KEYS = ("application_number", "patent_type", "ipc_classes", "applicants", "inventors", "filing_date",
               "grant_date", "legal_status", "claims_count", "citations", "family_size", "transfer_willingness",
               "market_prospect", "transfer_modes", "value_score", "curation_stage")
FINANCIAL_KEYS = ("product_type", "amount_min_rmb", "amount_max_rmb", "rate_min_pct", "rate_max_pct",
                  "term_months_min", "term_months_max", "guarantee", "guarantee_fee_pct", "eligibility_zh",
                  "eligibility_en", "invest_fields", "invest_stages", "ticket_min_rmb", "ticket_max_rmb")
NEED_DETAIL_KEYS = ("description_zh", "description_en", "quantity", "unit", "required_certifications", "min_trl",
                    "close_reason")


def number(value):
    """Decimal amounts as JSON numbers (None stays None)."""
    return None if value is None else float(value)


def organization_ref(org) -> dict:
    return {"id": org.id, "kind": org.kind, "name_zh": org.name_zh, "name_en": org.name_en or ""}


def organization(org) -> dict:
    out = organization_ref(org)
    out.update({k: getattr(org, k) for k in ("short_name", "sub_park", "size_class", "registered_in_park", "verified",
                                             "description_zh", "description_en", "website")})
    out["url"] = url_for("organizations.profile", org_id=org.id, _external=True)
    return out


def offer_summary(offer, user) -> dict:
    """List view: the public teaser of an offer plus whether the viewer may read its details."""
    return {
        "id": offer.id, "kind": offer.kind, "status": offer.status, "visibility": offer.visibility,
        "title_zh": offer.title_zh, "title_en": offer.title_en, "summary_zh": offer.summary_zh,
        "summary_en": offer.summary_en, "tags": list(offer.tags or []),
        "field_codes": [f.code for f in offer.fields], "trl": offer.trl,
        "organization": organization_ref(offer.organization),
        "batch_number": offer.batch.number if offer.batch else None,
        "published_at": offer.published_at, "updated_at": offer.updated_at,
        "url": url_for("catalogue.detail", offer_id=offer.id, _external=True),
        "details_visible": confidentiality.detail_access(user, offer).show,
    }


def offer_detail(offer, user, *, details_visible: bool) -> dict:
    """Single offer: details only when ``details_visible`` (decided and logged by the caller)."""
    out = offer_summary(offer, user)
    out["details_visible"] = details_visible
    for key in OFFER_DETAIL_KEYS:
        out[key] = getattr(offer, key) if details_visible else None
    out["price_rmb"] = number(offer.price_rmb) if details_visible else None
    owner_view = user is not None and offer.organization_id in getattr(user, "org_ids", set())
    out["review_note"] = offer.review_note if owner_view else None
    out["patent"] = patent(offer.patent) if offer.patent is not None else None
    out["financial"] = financial(offer.financial) if offer.financial is not None and details_visible else None
    return out


def patent(detail) -> dict:
    return {k: getattr(detail, k) for k in PATENT_KEYS}


def financial(detail) -> dict:
    out = {k: getattr(detail, k) for k in FINANCIAL_KEYS}
    for key in ("amount_min_rmb", "amount_max_rmb", "ticket_min_rmb", "ticket_max_rmb"):
        out[key] = number(out[key])
    return out


def need_summary(need, user) -> dict:
    return {
        "id": need.id, "kind": need.kind, "status": need.status, "visibility": need.visibility,
        "urgency": need.urgency, "title_zh": need.title_zh, "title_en": need.title_en,
        "tags": list(need.tags or []), "field_codes": [f.code for f in need.fields],
        "organization": organization_ref(need.organization), "deadline": need.deadline,
        "created_at": need.created_at,
        "url": url_for("needs.detail", need_id=need.id, _external=True),
        "details_visible": confidentiality.detail_access(user, need).show,
    }


def need_detail(need, user, *, details_visible: bool) -> dict:
    out = need_summary(need, user)
    out["details_visible"] = details_visible
    for key in NEED_DETAIL_KEYS:
        out[key] = getattr(need, key) if details_visible else None
    for key in ("budget_min_rmb", "budget_max_rmb"):
        out[key] = number(getattr(need, key)) if details_visible else None
    if not details_visible:
        out["description_zh"] = confidentiality.teaser_text(need, "zh")
        out["description_en"] = confidentiality.teaser_text(need, "en")
    return out


def _lang() -> str:
    return "en" if str(get_locale() or "zh").startswith("en") else "zh"


def match(suggestion, user, decisions: dict[int, str]) -> dict:
    lang = _lang()
    reasons = [{"kind": r.get("kind"), "text": r.get(lang) or r.get("text") or r.get("zh") or r.get("en") or ""}
               for r in (suggestion.reasons or []) if isinstance(r, dict)]
    parts = {k: float(v) for k, v in (suggestion.parts or {}).items() if isinstance(v, (int, float))}
    return {"need_id": suggestion.need_id, "offer": offer_summary(suggestion.offer, user), "rank": suggestion.rank,
            "score": float(suggestion.score), "parts": parts, "reasons": reasons,
            "decision": decisions.get(suggestion.offer_id), "computed_at": suggestion.computed_at}

"""Rows → plain dicts shaped like the response schemas, with the viewer's access rules applied."""
from __future__ import annotations

from flask_babel import get_locale

from marketplace import visibility
from marketplace.services import access, confidentiality
from marketplace.links import site_url

OFFER_DETAIL_KEYS = ("description_zh", "description_en", "problem_zh", "problem_en", "advantage_zh", "advantage_en",
                     "scenarios_zh", "scenarios_en", "regulatory_statuses", "partnership_modes", "ip_status",
                     "price_terms", "capacity", "lead_time_days")
FINANCIAL_KEYS = ("product_type", "amount_min_rmb", "amount_max_rmb", "rate_min_pct", "rate_max_pct",
                  "term_months_min", "term_months_max", "guarantee", "guarantee_fee_pct", "eligibility_zh",
                  "eligibility_en", "invest_fields", "invest_stages", "ticket_min_rmb", "ticket_max_rmb",
                  "collateral_required", "park_only", "eligible_sizes", "eligible_stages", "eligible_fields")
NEED_DETAIL_KEYS = ("description_zh", "description_en", "quantity", "unit", "required_certifications", "min_trl",
                    "close_reason", "term_months", "max_rate_pct", "collateral_available", "allow_uncertified")


def number(value):
    """Decimal amounts as JSON numbers (None stays None)."""
    return None if value is None else float(value)


def organization_ref(org) -> dict:
    return {"id": org.id, "kind": org.kind, "name_zh": org.name_zh, "name_en": org.name_en or ""}


def organization(org) -> dict:
    out = organization_ref(org)
    out.update({k: getattr(org, k) for k in ("short_name", "sub_park", "size_class", "registered_in_park", "verified",
                                             "description_zh", "description_en", "website", "mediated_only",
                                             "growth_stage", "group_parent_id")})
    out["field_codes"] = [f.code for f in org.fields]
    out["url"] = site_url("organizations.profile", org_id=org.id)
    return out


def _view(item, user, details_visible: bool | None):
    """The safe view the representation is built from (``details_visible`` decided and logged by the caller)."""
    if isinstance(item, visibility.SafeView):
        return item
    if details_visible is None:
        return confidentiality.safe_view(user, item)
    return visibility.safe_view(item, details_visible)


def offer_summary(offer, user, *, details_visible: bool | None = None) -> dict:
    """List view: the public teaser of an offer plus whether the viewer may read its details."""
    view = _view(offer, user, details_visible)
    return {
        "id": view.id, "kind": view.kind, "status": view.status, "visibility": view.visibility,
        "title_zh": view.title_zh, "title_en": view.title_en, "summary_zh": view.summary_zh,
        "summary_en": view.summary_en, "tags": list(view.tags or []),
        "field_codes": [f.code for f in view.fields], "trl": view.trl,
        "organization": organization_ref(view.organization),
        "batch_number": view.batch.number if view.batch else None,
        "published_at": view.published_at, "updated_at": view.updated_at,
        "url": site_url("catalogue.detail", offer_id=view.id),
        "details_visible": view.details_shown,
    }


def offer_detail(offer, user, *, details_visible: bool | None = None) -> dict:
    """Single offer: the fields of its safe view (details only when visible to the caller)."""
    view = _view(offer, user, details_visible)
    out = offer_summary(view, user)
    shown = view.details_shown
    for key in OFFER_DETAIL_KEYS:
        value = getattr(view, key)
        out[key] = value if shown or key in ("regulatory_statuses", "partnership_modes") else None
    out["price_rmb"] = number(view.price_rmb)
    owner_view = access.is_member_of(user, view.organization_id)
    out["review_note"] = view.review_note if owner_view else None
    out["patent"] = view.patent.as_dict() if view.patent is not None else None
    out["financial"] = financial(view.financial) if view.financial is not None else None
    return out


def financial(detail) -> dict:
    out = {k: getattr(detail, k) for k in FINANCIAL_KEYS}
    for key in ("amount_min_rmb", "amount_max_rmb", "ticket_min_rmb", "ticket_max_rmb"):
        out[key] = number(out[key])
    return out


def need_summary(need, user, *, details_visible: bool | None = None) -> dict:
    view = _view(need, user, details_visible)
    return {
        "id": view.id, "kind": view.kind, "status": view.status, "visibility": view.visibility,
        "urgency": view.urgency, "title_zh": view.title_zh, "title_en": view.title_en,
        "tags": list(view.tags or []), "field_codes": [f.code for f in view.fields],
        "organization": organization_ref(view.organization), "deadline": view.deadline,
        "created_at": view.created_at,
        "url": site_url("needs.detail", need_id=view.id),
        "details_visible": view.details_shown,
    }


def need_detail(need, user, *, details_visible: bool | None = None) -> dict:
    """Single need: the fields of its safe view (a teaser need's teaser text when its details are hidden)."""
    view = _view(need, user, details_visible)
    out = need_summary(view, user)
    for key in NEED_DETAIL_KEYS:
        out[key] = getattr(view, key) if view.details_shown or key.startswith("description") else None
    for key in ("budget_min_rmb", "budget_max_rmb"):
        out[key] = number(getattr(view, key))
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
            "strength": suggestion.strength, "band": getattr(suggestion, "band", None),
            "flags": list(suggestion.flags or []),
            "similar_offer_ids": [m.offer_id for m in getattr(suggestion, "similar", [])],
            "decision": decisions.get(suggestion.offer_id), "computed_at": suggestion.computed_at}

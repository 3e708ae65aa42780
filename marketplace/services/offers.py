"""Offers: drafting with a template per kind, editing and submission for verification."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.identifiers import is_valid_patent_number, normalise_patent_number, patent_type_of
from marketplace.models import Field, FinancialDetail, Offer, PatentDetail
from marketplace.models.organizations import SIZE_CLASSES
from marketplace.models.catalogue import (FINANCIAL_PRODUCT_TYPES, OFFER_KINDS, PARTNERSHIP_MODES,
                                          PATENT_LEGAL_STATUSES, REGULATORY_STATUSES, TRANSFER_MODES, VISIBILITIES)
from marketplace.services import access, confidentiality, notifications, versions
from marketplace.services.cleaning import Cleaner
from marketplace.services.errors import PermissionDenied, ValidationFailed

INVEST_STAGES = ("seed", "angel", "early", "growth", "late")

# Which optional sections each kind's form template shows; the service ignores the others.
KIND_SECTIONS = {
    "technology": ("problem", "advantage", "scenarios", "trl", "ip_status", "partnership"),
    "product": ("problem", "advantage", "scenarios", "trl", "regulatory", "price", "capacity", "partnership"),
    "service": ("problem", "advantage", "scenarios", "price", "capacity", "partnership"),
    "patent": ("problem", "advantage", "scenarios", "trl", "partnership", "patent"),
    "financial": ("financial",),
}


FIELDS_BY_CODE = "fields_by_code"  # session.info key: {code: Field} preloaded by a bulk import


def fields_by_codes(codes: list[str]) -> tuple[list[Field], list[str]]:
    """Resolve taxonomy codes; returns (fields, unknown codes). A bulk import preloads the taxonomy into
    ``session.info[FIELDS_BY_CODE]`` so its thousands of rows do not query it twice each."""
    if not codes:
        return [], []
    preloaded = db.session.info.get(FIELDS_BY_CODE)
    if preloaded is not None:
        found = [preloaded[c] for c in dict.fromkeys(codes) if c in preloaded]
        return found, [c for c in codes if c not in preloaded]
    found = list(db.session.scalars(select(Field).where(Field.code.in_(codes))))
    known = {f.code for f in found}
    return found, [c for c in codes if c not in known]


def clean_offer(data: dict, kind: str) -> tuple[dict, dict, dict | None, dict | None]:
    """Validate offer input for ``kind``; returns (values, errors, patent values, financial values)."""
    c = Cleaner(data)
    c.text("title_zh", max_length=300)
    c.text("title_en", max_length=300)
    if not c.values["title_zh"] and not c.values["title_en"]:
        c.error("title_zh", _l("Give a title in Chinese or English."))
    for stem in ("summary", "description", "problem", "advantage", "scenarios"):
        c.text(f"{stem}_zh", max_length=20000)
        c.text(f"{stem}_en", max_length=20000)
    if not (c.values["summary_zh"] or c.values["summary_en"]):
        c.error("summary_zh", _l("Give a summary in Chinese or English."))
    c.tags("tags")
    c.integer("trl", min_value=1, max_value=9)
    c.choices("regulatory_statuses", REGULATORY_STATUSES)
    c.choices("partnership_modes", PARTNERSHIP_MODES)
    c.text("ip_status", max_length=200)
    c.text("price_terms", max_length=300)
    c.decimal("price_rmb")
    c.text("capacity", max_length=300)
    c.integer("lead_time_days", min_value=0, max_value=3650)
    c.choice("visibility", VISIBILITIES, default="public")
    codes = c.tags("field_codes", max_items=10)
    _, unknown = fields_by_codes(codes)
    if unknown:
        c.error("field_codes", _l("Unknown field code: %(v)s.", v=", ".join(unknown)))
    patent = financial = None
    if kind == "patent":
        p = Cleaner(data)
        number = p.text("application_number", required=True, max_length=20)
        if number and not is_valid_patent_number(number):
            p.error("application_number", _l("Not a valid Chinese patent application number (check character)."))
        p.tags("ipc_classes")
        p.tags("applicants")
        p.tags("inventors")
        p.date("filing_date")
        p.date("grant_date")
        p.choice("legal_status", PATENT_LEGAL_STATUSES, default="pending")
        p.integer("claims_count", min_value=0, max_value=1000)
        p.integer("citations", min_value=0, max_value=100000)
        p.integer("family_size", min_value=1, max_value=1000)
        p.integer("transfer_willingness", min_value=1, max_value=5)
        p.integer("market_prospect", min_value=1, max_value=5)
        p.choices("transfer_modes", TRANSFER_MODES)
        if p.values.get("filing_date") and p.values.get("grant_date") and p.values["grant_date"] < p.values["filing_date"]:
            p.error("grant_date", _l("The grant date cannot be before the filing date."))
        c.errors.update(p.errors)
        patent = p.values
        if number and "application_number" not in p.errors:
            patent["application_number"] = normalise_patent_number(number)
    if kind == "financial":
        f = Cleaner(data)
        f.choice("product_type", FINANCIAL_PRODUCT_TYPES, required=True)
        f.decimal("amount_min_rmb")
        f.decimal("amount_max_rmb")
        f.floating("rate_min_pct", min_value=0, max_value=100)
        f.floating("rate_max_pct", min_value=0, max_value=100)
        f.integer("term_months_min", min_value=0, max_value=600)
        f.integer("term_months_max", min_value=0, max_value=600)
        f.text("guarantee", max_length=200)
        f.floating("guarantee_fee_pct", min_value=0, max_value=100)
        f.text("eligibility_zh", max_length=5000)
        f.text("eligibility_en", max_length=5000)
        f.tags("invest_fields")
        f.choices("invest_stages", INVEST_STAGES)
        f.decimal("ticket_min_rmb")
        f.decimal("ticket_max_rmb")
        f.boolean("collateral_required")
        f.boolean("park_only")
        f.choices("eligible_sizes", SIZE_CLASSES)
        f.choices("eligible_stages", INVEST_STAGES)
        unknown_fields = fields_by_codes(f.tags("eligible_fields", max_items=20))[1]
        if unknown_fields:
            f.error("eligible_fields", _l("Unknown field code: %(v)s.", v=", ".join(unknown_fields)))
        for low, high in (("amount_min_rmb", "amount_max_rmb"), ("rate_min_pct", "rate_max_pct"),
                          ("term_months_min", "term_months_max"), ("ticket_min_rmb", "ticket_max_rmb")):
            lo, hi = f.values.get(low), f.values.get(high)
            if lo is not None and hi is not None and lo > hi:
                f.error(high, _l("The maximum must not be below the minimum."))
        c.errors.update(f.errors)
        financial = f.values
    return c.values, c.errors, patent, financial


def _apply(offer: Offer, values: dict, patent: dict | None, financial: dict | None) -> None:
    for key in ("title_zh", "title_en", "summary_zh", "summary_en", "description_zh", "description_en",
                "problem_zh", "problem_en", "advantage_zh", "advantage_en", "scenarios_zh", "scenarios_en",
                "tags", "trl", "regulatory_statuses", "partnership_modes", "ip_status", "price_terms", "price_rmb",
                "capacity", "lead_time_days", "visibility"):
        setattr(offer, key, values.get(key))
    offer.visibility = offer.visibility or "public"
    offer.fields, _ = fields_by_codes(values.get("field_codes") or [])
    if patent is not None:
        detail = offer.patent or PatentDetail()
        for key, value in patent.items():
            if value is not None:
                setattr(detail, key, value)
        detail.patent_type = patent_type_of(detail.application_number) or "invention"
        offer.patent = detail
    if financial is not None:
        detail = offer.financial or FinancialDetail()
        for key, value in financial.items():
            setattr(detail, key, value)
        offer.financial = detail


NUMBER_UNAVAILABLE = _l("This application number cannot be registered. Check it, or ask the platform operator.")


def patent_number_taken_message(user, existing: Offer):
    """The error for a taken application number: "already listed" only when the user may see that listing
    (``visibility``); otherwise a neutral message, so other organisations' drafts and confidential patents are not
    confirmed."""
    if access.can_view_offer(user, existing):
        return _l("This patent is already listed.")
    return NUMBER_UNAVAILABLE


def _check_patent_unique(user, number: str | None, offer_id: int | None, errors: dict) -> None:
    if not number:
        return
    existing = db.session.scalar(select(Offer).join(PatentDetail, PatentDetail.offer_id == Offer.id)
                                 .where(PatentDetail.application_number == number))
    if existing is not None and existing.id != offer_id:
        errors["application_number"] = patent_number_taken_message(user, existing)


def _cleaned_new_offer(user, organization_id: int, kind: str, data: dict) -> tuple:
    """``clean_offer`` of a new offer's form data, once the user may list for the organisation and the kind is
    known: (values, errors, patent, financial)."""
    access.require_member(user, organization_id)
    if kind not in OFFER_KINDS:
        raise ValidationFailed(_l("Unknown offer kind."), field_errors={"kind": _l("Unknown offer kind.")})
    return clean_offer(data, kind)


def _add_draft(user, organization_id: int, kind: str, values: dict, patent, financial) -> Offer:
    offer = Offer(organization_id=organization_id, kind=kind, status="draft",
                  created_by_id=getattr(user, "id", None))
    _apply(offer, values, patent, financial)
    db.session.add(offer)
    return offer


def build_offer(user, organization_id: int, kind: str, data: dict) -> Offer:
    """A new draft offer from form data without an NDA, added to the session but not flushed, so that a bulk
    import flushes many at once. The caller has checked the patent number against the listed ones (a number
    listed meanwhile fails at the flush on the unique key)."""
    values, errors, patent, financial = _cleaned_new_offer(user, organization_id, kind, data)
    if errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=errors)
    return _add_draft(user, organization_id, kind, values, patent, financial)


def create_offer(user, organization_id: int, kind: str, data: dict) -> Offer:
    """Create a draft offer of ``kind`` for an organisation the user belongs to."""
    values, errors, patent, financial = _cleaned_new_offer(user, organization_id, kind, data)
    _check_patent_unique(user, (patent or {}).get("application_number"), None, errors)
    nda = confidentiality.nda_from_form(data, errors)
    if errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=errors)
    offer = _add_draft(user, organization_id, kind, values, patent, financial)
    db.session.flush()
    if nda is not None:
        confidentiality.apply_nda(user, offer, *nda)
    return offer


def update_offer(user, offer: Offer, data: dict, *, expected_version=None, keep_unsent: bool = False) -> Offer:
    """Change an offer the user may edit; a published offer edited by staff stays published.

    ``expected_version`` is the version the form (or ``If-Match``) started from: an older one is refused
    (``versions.StaleEdit``). With ``keep_unsent`` fields missing from ``data`` keep their stored values,
    read under the row lock (a partial API update never writes back values another save has replaced).
    """
    access.require_offer_edit(user, offer)
    offer = versions.claim(offer, expected_version)
    if keep_unsent:
        data = {**offer_form_values(offer), **data}
    values, errors, patent, financial = clean_offer(data, offer.kind)
    _check_patent_unique(user, (patent or {}).get("application_number"), offer.id, errors)
    nda = confidentiality.nda_from_form(data, errors)
    if errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=errors)
    _apply(offer, values, patent, financial)
    db.session.flush()
    if nda is not None:
        confidentiality.apply_nda(user, offer, *nda)
    return offer


def submit_offer(user, offer: Offer) -> Offer:
    """Send a draft (or an offer sent back for changes) to the operators' verification queue."""
    access.require_offer_edit(user, offer)
    if offer.status not in ("draft", "changes_requested", "rejected"):
        raise PermissionDenied(_l("Only drafts can be submitted."))
    offer.status = "submitted"
    offer.submitted_at = datetime.now(timezone.utc)
    db.session.flush()
    notifications.offer_submitted(offer, user)
    return offer


def offer_form_values(offer: Offer | None) -> dict:
    """Current values of an offer as the form's plain data (lists kept as lists)."""
    if offer is None:
        return {}
    values = {k: getattr(offer, k) for k in (
        "title_zh", "title_en", "summary_zh", "summary_en", "description_zh", "description_en", "problem_zh",
        "problem_en", "advantage_zh", "advantage_en", "scenarios_zh", "scenarios_en", "trl", "ip_status",
        "price_terms", "price_rmb", "capacity", "lead_time_days", "visibility", "regulatory_statuses",
        "partnership_modes")}
    values["tags"] = ", ".join(offer.tags or [])
    values["field_codes"] = [f.code for f in offer.fields]
    values.update(confidentiality.nda_form_values(offer))
    for detail, keys in ((offer.patent, ("application_number", "filing_date", "grant_date", "legal_status",
                                         "claims_count", "citations", "family_size", "transfer_willingness",
                                         "market_prospect", "transfer_modes")),
                         (offer.financial, ("product_type", "amount_min_rmb", "amount_max_rmb", "rate_min_pct",
                                            "rate_max_pct", "term_months_min", "term_months_max", "guarantee",
                                            "guarantee_fee_pct", "eligibility_zh", "eligibility_en",
                                            "invest_stages", "ticket_min_rmb", "ticket_max_rmb",
                                            "collateral_required", "park_only", "eligible_sizes",
                                            "eligible_stages"))):
        if detail is not None:
            values.update({k: getattr(detail, k) for k in keys})
    if offer.patent is not None:
        for k in ("ipc_classes", "applicants", "inventors"):
            values[k] = ", ".join(getattr(offer.patent, k) or [])
    if offer.financial is not None:
        values["invest_fields"] = ", ".join(offer.financial.invest_fields or [])
        values["eligible_fields"] = ", ".join(offer.financial.eligible_fields or [])
    return {k: ("" if v is None else v) for k, v in values.items()}

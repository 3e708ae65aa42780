"""Rows as plain records for the matching library: offers, needs, firms (as financing seekers) and the
organisation groups, plus the refinement step (self-pairs, certifications, financing fit, near-duplicate groups,
calibrated strength) applied around the engine's ranking."""
from __future__ import annotations

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Field, Need, Offer, Organization
from matching.calibration import Calibration
from matching.refine import refine

CANDIDATE_FACTOR = 4  # the engine ranks this many times top_k so enough pairs remain after refinement


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _money(value) -> float | None:
    return float(value) if value is not None else None


def product_terms(offer: Offer) -> dict:
    """A financial product's terms and eligibility as ``matching.finance`` reads them."""
    fin = offer.financial
    if fin is None:
        return {}
    return {"product_type": fin.product_type, "amount_min": _money(fin.amount_min_rmb),
            "amount_max": _money(fin.amount_max_rmb), "ticket_min": _money(fin.ticket_min_rmb),
            "ticket_max": _money(fin.ticket_max_rmb), "term_min": fin.term_months_min, "term_max": fin.term_months_max,
            "rate_min": fin.rate_min_pct, "rate_max": fin.rate_max_pct, "collateral_required": fin.collateral_required,
            "eligible_sizes": list(fin.eligible_sizes or []), "park_only": fin.park_only,
            "eligible_fields": list(fin.eligible_fields or []), "eligible_stages": list(fin.eligible_stages or []),
            "invest_fields": list(fin.invest_fields or []), "invest_stages": list(fin.invest_stages or [])}


def offer_record(offer: Offer) -> dict:
    """An offer as an engine record (bilingual text, taxonomy, IPC, rule attributes, financial terms)."""
    record = {
        "id": str(offer.id), "kind": offer.kind, "org": str(offer.organization_id),
        "org_type": "manufacturer" if offer.organization.kind == "firm" else offer.organization.kind,
        "title_zh": offer.title_zh, "title_en": offer.title_en, "summary_zh": offer.summary_zh,
        "summary_en": offer.summary_en,
        "description_zh": " ".join(filter(None, [offer.description_zh, offer.problem_zh, offer.advantage_zh,
                                                 offer.scenarios_zh])),
        "description_en": " ".join(filter(None, [offer.description_en, offer.problem_en, offer.advantage_en,
                                                 offer.scenarios_en])),
        "tags": list(offer.tags or []), "fields": [f.code for f in offer.fields],
        "certifications": [c for c in offer.regulatory_statuses or [] if c != "none"], "trl": offer.trl,
        "price": _money(offer.price_rmb), "lead_time_days": offer.lead_time_days,
    }
    if offer.patent is not None:
        record["ipc"] = list(offer.patent.ipc_classes or [])
    if offer.financial is not None:
        fin = offer.financial
        record["tags"] = record["tags"] + list(fin.invest_fields or [])
        record["description_zh"] += " " + (fin.eligibility_zh or "")
        record["description_en"] += " " + (fin.eligibility_en or "")
        record["finance"] = product_terms(offer)
    return record


def seeker_attributes(org: Organization) -> dict:
    """What a funder's eligibility rules read about a firm."""
    return {"size_class": org.size_class, "in_park": bool(org.registered_in_park),
            "stage": org.growth_stage, "fields": [f.code for f in org.fields]}


def need_record(need: Need) -> dict:
    """A need as an engine record (financing needs also carry their organisation's eligibility attributes)."""
    record = {
        "id": str(need.id), "kind": need.kind, "org": str(need.organization_id),
        "title_zh": need.title_zh, "title_en": need.title_en, "description_zh": need.description_zh,
        "description_en": need.description_en, "tags": list(need.tags or []), "fields": [f.code for f in need.fields],
        "required_certifications": list(need.required_certifications or []), "min_trl": need.min_trl,
        "budget": _money(need.budget_max_rmb), "deadline": _iso(need.deadline),
        "allow_uncertified": bool(need.allow_uncertified),
    }
    if need.kind == "financing":
        seeker = seeker_attributes(need.organization)
        seeker["fields"] = record["fields"] or seeker["fields"]
        record.update(seeker, amount=record.pop("budget"), term_months=need.term_months,
                      max_rate_pct=need.max_rate_pct, collateral=need.collateral_available)
        record.pop("deadline")  # a financing need's date is when it wants the money, not a delivery
    return record


def org_groups() -> dict[str, str]:
    """Organisation id -> the id of the top of its declared group (organisations in no group are left out)."""
    parents = dict(db.session.execute(select(Organization.id, Organization.group_parent_id)
                                      .where(Organization.group_parent_id.is_not(None))).all())
    children_of = set(parents.values())
    groups = {}
    for org_id in set(parents) | children_of:
        top, seen = org_id, set()
        while top in parents and top not in seen:  # a declared cycle stops where it closes
            seen.add(top)
            top = parents[top]
        groups[str(org_id)] = str(top)
    return groups


def field_labeller():
    """``label(code, zh)``: a field's name for reasons (the code when unknown)."""
    names = {code: (zh, en) for code, zh, en in db.session.execute(select(Field.code, Field.name_zh, Field.name_en))}

    def label(code, zh: bool) -> str:
        pair = names.get(str(code))
        return (pair[0] if zh else pair[1] or pair[0]) if pair else str(code)
    return label


def refine_all(ranked: list[dict], needs: dict[str, dict], offers: dict[str, dict], top_k: int,
               calibration: Calibration | None = None) -> dict[str, list[dict]]:
    """Per need id, its refined matches (``matching.refine.refine``) from the engine's ``rank`` output."""
    groups, label = org_groups(), field_labeller()
    return {str(result["need"]): refine(needs[str(result["need"])], result["matches"], offers, org_groups=groups,
                                        calibration=calibration, top_k=top_k, field_label=label)
            for result in ranked}


def all_scores(refined: dict[str, list[dict]]) -> list[float]:
    """The score of every pairing shown (group leaders; a product's many variants would otherwise weigh as
    many pairings): what the calibration is fitted on."""
    return [float(match["score"]) for matches in refined.values() for match in matches]

"""Needs: posting with a form per kind, editing, publishing a draft, closing and reopening."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from marketplace import jobs
from marketplace.extensions import db
from marketplace.models import Need
from marketplace.models.catalogue import REGULATORY_STATUSES, VISIBILITIES
from marketplace.models.needs import NEED_KINDS, URGENCIES
from marketplace.services import access, confidentiality, versions
from marketplace.services.cleaning import Cleaner
from marketplace.services.errors import Conflict, ValidationFailed
from marketplace.services.matching import RANK_NEED_JOB
from marketplace.services.offers import fields_by_codes

COLLATERAL_CHOICES = ("yes", "no")  # a financing need: collateral or a guarantee available or not

# Which optional inputs each need kind's form shows.
NEED_KIND_SECTIONS = {
    "procurement": ("quantity", "budget", "deadline", "certifications"),
    "technology_cooperation": ("budget", "deadline", "trl"),
    "manufacturing_supply": ("quantity", "budget", "deadline", "certifications"),
    "testing_lab": ("budget", "deadline", "certifications"),
    "financing": ("budget", "deadline", "financing_terms"),
    "space": ("quantity", "budget", "deadline"),
}


def clean_need(data: dict) -> tuple[dict, dict]:
    c = Cleaner(data)
    c.text("title_zh", max_length=300)
    c.text("title_en", max_length=300)
    if not c.values["title_zh"] and not c.values["title_en"]:
        c.error("title_zh", _l("Give a title in Chinese or English."))
    c.text("description_zh", max_length=20000)
    c.text("description_en", max_length=20000)
    c.tags("tags")
    c.integer("quantity", min_value=1, max_value=10**9)
    c.text("unit", max_length=20)
    c.decimal("budget_min_rmb")
    c.decimal("budget_max_rmb")
    lo, hi = c.values.get("budget_min_rmb"), c.values.get("budget_max_rmb")
    if lo is not None and hi is not None and lo > hi:
        c.error("budget_max_rmb", _l("The maximum must not be below the minimum."))
    c.date("deadline")
    c.choices("required_certifications", REGULATORY_STATUSES)
    c.integer("min_trl", min_value=1, max_value=9)
    c.boolean("allow_uncertified")
    c.integer("term_months", min_value=1, max_value=600)
    c.floating("max_rate_pct", min_value=0, max_value=100)
    collateral = c.choice("collateral_available", COLLATERAL_CHOICES)
    c.values["collateral_available"] = None if not collateral else collateral == "yes"
    c.choice("urgency", URGENCIES, default="normal")
    c.choice("visibility", VISIBILITIES, default="public")
    codes = c.tags("field_codes", max_items=10)
    _, unknown = fields_by_codes(codes)
    if unknown:
        c.error("field_codes", _l("Unknown field code: %(v)s.", v=", ".join(unknown)))
    return c.values, c.errors


def _apply(need: Need, values: dict) -> None:
    for key in ("title_zh", "title_en", "description_zh", "description_en", "tags", "quantity", "unit",
                "budget_min_rmb", "budget_max_rmb", "deadline", "required_certifications", "min_trl",
                "urgency", "visibility", "allow_uncertified", "term_months", "max_rate_pct", "collateral_available"):
        setattr(need, key, values.get(key))
    need.allow_uncertified = bool(need.allow_uncertified)
    need.urgency = need.urgency or "normal"
    need.visibility = need.visibility or "public"
    need.fields, _ = fields_by_codes(values.get("field_codes") or [])


def create_need(user, organization_id: int, kind: str, data: dict, *, publish: bool = True) -> Need:
    """Post a need (open at once unless ``publish`` is False, then a draft)."""
    access.require_member(user, organization_id)
    return post_need_for(user, organization_id, kind, data, publish=publish)


def post_need_for(user, organization_id: int, kind: str, data: dict, *, publish: bool = True) -> Need:
    """Post a need for ``organization_id`` once the caller has checked that ``user`` may (a member, or the
    sub-park staff turning a firm's liaison report into a need); the same validation as members' needs."""
    if kind not in NEED_KINDS:
        raise ValidationFailed(_l("Unknown need kind."), field_errors={"kind": _l("Unknown need kind.")})
    values, errors = clean_need(data)
    nda = confidentiality.nda_from_form(data, errors)
    if errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=errors)
    need = Need(organization_id=organization_id, kind=kind, status="open" if publish else "draft",
                created_by_id=getattr(user, "id", None))
    _apply(need, values)
    db.session.add(need)
    db.session.flush()
    if nda is not None:
        confidentiality.apply_nda(user, need, *nda)
    jobs.enqueue(db.session, RANK_NEED_JOB, need_id=need.id)
    return need


def update_need(user, need: Need, data: dict, *, expected_version=None, keep_unsent: bool = False) -> Need:
    """Change a need the user may edit (see ``offers.update_offer`` for the version and ``keep_unsent``)."""
    access.require_need_edit(user, need)
    need = versions.claim(need, expected_version)
    if keep_unsent:
        data = {**need_form_values(need), **data}
    values, errors = clean_need(data)
    nda = confidentiality.nda_from_form(data, errors)
    if errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=errors)
    _apply(need, values)
    db.session.flush()
    if nda is not None:
        confidentiality.apply_nda(user, need, *nda)
    jobs.enqueue(db.session, RANK_NEED_JOB, need_id=need.id)
    return need


def close_need(user, need: Need, reason: str = "") -> Need:
    access.require_need_edit(user, need)
    need.status = "closed"
    need.close_reason = (reason or "").strip()[:2000]
    db.session.flush()
    jobs.enqueue(db.session, RANK_NEED_JOB, need_id=need.id)
    return need


def publish(user, need: Need) -> Need:
    """Open a draft need (its organisation's members and staff): it is listed and enters the matching."""
    access.require_need_edit(user, need)
    if need.status != "draft":
        raise Conflict(_l("Only a draft need can be published."))
    need.status = "open"
    db.session.flush()
    jobs.enqueue(db.session, RANK_NEED_JOB, need_id=need.id)
    return need


def reopen(user, need: Need) -> Need:
    """Open a closed need again (its organisation's members and staff); the closing reason is cleared."""
    access.require_need_edit(user, need)
    if need.status != "closed":
        raise Conflict(_l("Only a closed need can be reopened."))
    need.status = "open"
    need.close_reason = ""
    db.session.flush()
    jobs.enqueue(db.session, RANK_NEED_JOB, need_id=need.id)
    return need


def need_form_values(need: Need | None) -> dict:
    """Current values of a need as the form's plain data."""
    if need is None:
        return {}
    values = {k: getattr(need, k) for k in (
        "title_zh", "title_en", "description_zh", "description_en", "quantity", "unit", "budget_min_rmb",
        "budget_max_rmb", "deadline", "required_certifications", "min_trl", "urgency", "visibility",
        "allow_uncertified", "term_months", "max_rate_pct")}
    values["collateral_available"] = {True: "yes", False: "no"}.get(need.collateral_available, "")
    values["tags"] = ", ".join(need.tags or [])
    values["field_codes"] = [f.code for f in need.fields]
    values.update(confidentiality.nda_form_values(need))
    return {k: ("" if v is None else v) for k, v in values.items()}

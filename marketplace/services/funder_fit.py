"""Firms that fit a funder's financial products and focus, even when they posted no financing need.

Each published financial product of the funder's organisations is compared with every firm's profile (size,
registered in the park, fields, stage) and, where the funder may read it, the amount, term and collateral of
the firm's open financing need (``matching.finance``). Firms failing a hard rule are left out; the others are
ranked by the share of conditions they meet, with the reasons in both languages.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace import visibility
from marketplace.extensions import db
from marketplace.models import Need, Offer, Organization
from marketplace.services import access
from marketplace.services.errors import PermissionDenied
from marketplace.services.match_records import field_labeller, org_groups, product_terms, seeker_attributes
from matching import finance
from matching.grouping import group_of

OPEN_NEED_STATUSES = ("open", "matched")


@dataclass
class FirmFit:
    """One firm for one product: how many conditions it meets and why."""

    firm: Organization
    offer: Offer
    need: Need | None
    fit: float
    met: int
    applicable: int
    reasons: list[dict] = field(default_factory=list)

    @property
    def strength(self) -> int:
        """0-100: the share of the product's conditions the firm meets."""
        return round(100 * self.met / self.applicable) if self.applicable else 0


def _seeker(user, firm: Organization, need: Need | None) -> dict:
    seeker = seeker_attributes(firm)
    if need is not None:
        view = visibility.static_view(user, need)  # amounts only where this funder may read them
        if view.details_shown:
            amount = view.budget_max_rmb
            seeker.update(amount=float(amount) if amount is not None else None, term_months=view.term_months,
                          max_rate_pct=view.max_rate_pct, collateral=view.collateral_available)
        seeker["fields"] = [f.code for f in need.fields] or seeker["fields"]
    return seeker


def firms_for_funder(user, organization_ids: set[int], limit: int = 30) -> list[FirmFit]:
    """Best-fitting firms for the financial products of the user's funder organisations."""
    if not organization_ids:
        return []
    if not any(access.is_member_of(user, org_id) for org_id in organization_ids) and not access.is_broker(user):
        raise PermissionDenied(_l("Only the funder's members see the firms that fit its products."))
    products = list(db.session.scalars(
        select(Offer).where(Offer.organization_id.in_(organization_ids), Offer.kind == "financial",
                            Offer.status == "published").options(selectinload(Offer.financial))))
    if not products:
        return []
    firms = list(db.session.scalars(select(Organization).where(Organization.kind == "firm")
                                    .options(selectinload(Organization.fields)).order_by(Organization.id)))
    needs = {}
    for need in db.session.scalars(select(Need).where(Need.kind == "financing", Need.status.in_(OPEN_NEED_STATUSES))
                                   .options(selectinload(Need.fields)).order_by(Need.id)):
        if visibility.NEED_OPEN.allows(user, need):
            needs.setdefault(need.organization_id, need)
    return _ranked(user, products, firms, needs)[:limit]


def _ranked(user, products: list[Offer], firms: list[Organization], needs: dict[int, Need]) -> list[FirmFit]:
    """Every (firm, product) pair that fails no hard rule and meets at least one condition, best first."""
    groups, label = org_groups(), field_labeller()
    out = []
    for offer in products:
        terms = product_terms(offer)
        own = group_of(str(offer.organization_id), groups)
        for firm in firms:
            if group_of(str(firm.id), groups) == own:
                continue
            need = needs.get(firm.id)
            outcomes = finance.finance_outcomes(_seeker(user, firm, need), terms)
            met = sum(1 for o in outcomes if o[1] > 0)
            if not met or finance.hard_failed(outcomes):
                continue
            reasons = [finance.finance_reason(rule, result, seeker_value, offer_value, "zh", label)
                       for rule, result, seeker_value, offer_value in outcomes]
            out.append(FirmFit(firm, offer, need, finance.fit_score(outcomes), met, len(outcomes), reasons))
    out.sort(key=lambda f: (-f.fit, -f.met, f.firm.id, f.offer.id))
    return out


def funders_for_firm(user, firm_id: int, limit: int = 3) -> list[Organization]:
    """Funder organisations whose published products fit a firm's profile, best first (event attendance
    suggestions for a firm that posted no financing need)."""
    firm = db.session.get(Organization, firm_id)
    if firm is None or firm.kind != "firm":
        return []
    products = list(db.session.scalars(
        select(Offer).where(Offer.kind == "financial", Offer.status == "published", access.offer_visibility_clause(user))
        .options(selectinload(Offer.financial), selectinload(Offer.organization)).order_by(Offer.id)))
    funders: list[Organization] = []
    for fit in _ranked(user, products, [firm], {}):
        if fit.offer.organization not in funders:
            funders.append(fit.offer.organization)
    return funders[:limit]

"""Reads of introductions (brokered contacts between a need's and an offer's organisations)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.models import Introduction, Need, Offer
from marketplace.queries.paging import Page, fetch_page, valid_id
from marketplace.services import brokering  # who may see an introduction is the brokering rule


def get_introduction(viewer, intro_id: int) -> Introduction:
    """The introduction if ``viewer`` may see it, else NotFound (its existence is hidden)."""
    intro = db.session.get(Introduction, intro_id) if valid_id(intro_id) else None
    return brokering.require_view(viewer, intro)


def list_introductions(viewer, *, stage: str | None = None, need_id: int | None = None,
                       offer_id: int | None = None, page: int = 1, per_page: int) -> Page:
    """Introductions ``viewer`` brokers or takes part in (operators: all), latest stage change first."""
    query = (select(Introduction).where(brokering.visibility_clause(viewer))
             .options(selectinload(Introduction.need_organization), selectinload(Introduction.offer_organization)))
    for column, value in ((Introduction.stage, stage), (Introduction.need_id, need_id),
                          (Introduction.offer_id, offer_id)):
        if value:
            query = query.where(column == value)
    return fetch_page(query.order_by(Introduction.stage_changed_at.desc(), Introduction.id.desc()), page, per_page)


def own_ends(organization_ids, need_id: int | None, offer_id: int | None) -> tuple[bool, bool]:
    """Whether the need and the offer named in a request belong to one of ``organization_ids`` (the asker's)."""
    organization_ids = [o for o in organization_ids if valid_id(o)]
    if not organization_ids:
        return False, False
    own_need = valid_id(need_id) and db.session.scalar(select(Need.id).where(
        Need.id == need_id, Need.organization_id.in_(organization_ids))) is not None
    own_offer = valid_id(offer_id) and db.session.scalar(select(Offer.id).where(
        Offer.id == offer_id, Offer.organization_id.in_(organization_ids))) is not None
    return bool(own_need), bool(own_offer)

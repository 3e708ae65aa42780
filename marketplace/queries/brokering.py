"""Reads of introductions (brokered contacts between a need's and an offer's organisations)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.models import Introduction
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

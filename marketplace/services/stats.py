"""Headline figures and counts for the home page and the operator dashboard."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Batch, Field, Need, Offer, Organization, PatentDetail
from marketplace.models.catalogue import offer_fields


def headline_figures() -> dict:
    """Public figures computed from the records (never typed in)."""
    published = Offer.status == "published"
    return {
        "offers": db.session.scalar(select(func.count(Offer.id)).where(published)) or 0,
        "organizations": db.session.scalar(select(func.count(Organization.id))) or 0,
        "open_needs": db.session.scalar(select(func.count(Need.id)).where(Need.status == "open",
                                                                        Need.visibility != "confidential")) or 0,
        "high_value_patents": db.session.scalar(
            select(func.count(PatentDetail.offer_id)).join(Offer).where(
                PatentDetail.curation_stage == "high_value", published)) or 0,
        "batches": db.session.scalar(select(func.count(Batch.id))) or 0,
    }


def direction_counts() -> list[tuple[Field, int]]:
    """The five key support directions with the number of published offers in each (any subfield)."""
    directions = list(db.session.scalars(select(Field).where(Field.parent_id.is_(None)).order_by(Field.sort_order)))
    child_to_top: dict[int, int] = {}
    for top in directions:
        child_to_top[top.id] = top.id
        stack = list(top.children)
        while stack:
            node = stack.pop()
            child_to_top[node.id] = top.id
            stack.extend(node.children)
    rows = db.session.execute(
        select(offer_fields.c.field_id, offer_fields.c.offer_id).join(Offer, Offer.id == offer_fields.c.offer_id)
        .where(Offer.status == "published")).all()
    seen: dict[int, set[int]] = {d.id: set() for d in directions}
    for field_id, offer_id in rows:
        top = child_to_top.get(field_id)
        if top is not None:
            seen[top].add(offer_id)
    return [(d, len(seen[d.id])) for d in directions]

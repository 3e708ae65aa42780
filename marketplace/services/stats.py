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


def count_by(column, *where) -> list[tuple[str, int]]:
    """(value, count) pairs for a column, largest first."""
    query = select(column, func.count()).group_by(column).order_by(func.count().desc())
    for clause in where:
        query = query.where(clause)
    return [(value, n) for value, n in db.session.execute(query).all()]


def operator_dashboard() -> dict:
    """Counts for the operator dashboard, all computed from the records."""
    from marketplace.models import ReviewDecision

    batches = db.session.execute(
        select(Batch.number, Batch.title_zh, Batch.title_en, func.count(Offer.id))
        .join(Offer, Offer.batch_id == Batch.id, isouter=True).group_by(Batch.id).order_by(Batch.number)).all()
    decisions = db.session.execute(
        select(func.date(ReviewDecision.decided_at), ReviewDecision.decision, func.count())
        .group_by(func.date(ReviewDecision.decided_at), ReviewDecision.decision)
        .order_by(func.date(ReviewDecision.decided_at))).all()
    throughput: dict[str, dict[str, int]] = {}
    for day, decision, n in decisions:
        throughput.setdefault(str(day), {})[decision] = n
    return {
        "offers_by_kind": count_by(Offer.kind, Offer.status == "published"),
        "offers_by_status": count_by(Offer.status),
        "offers_by_direction": [(d, n) for d, n in direction_counts()],
        "offers_by_batch": [(number, zh, en, n) for number, zh, en, n in batches],
        "needs_by_kind": count_by(Need.kind),
        "needs_by_status": count_by(Need.status),
        "verification_by_day": sorted(throughput.items())[-30:],
        "queue_length": db.session.scalar(select(func.count(Offer.id)).where(Offer.status == "submitted")) or 0,
        "approved_waiting": db.session.scalar(select(func.count(Offer.id)).where(Offer.status == "approved")) or 0,
    }

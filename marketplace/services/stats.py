"""Headline figures and counts for the home page and the operator dashboard."""
from __future__ import annotations

import time

from sqlalchemy import case, distinct, func, select

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
    fields = list(db.session.scalars(select(Field)))
    parent = {f.id: f.parent_id for f in fields}

    def top_of(field_id: int) -> int:
        while parent.get(field_id) is not None:
            field_id = parent[field_id]
        return field_id
    directions = sorted((f for f in fields if f.parent_id is None), key=lambda f: f.sort_order)
    if not directions:
        return []
    # One aggregate query: each offer counts once per direction, however many of its subfields it has.
    top = case({f.id: top_of(f.id) for f in fields}, value=offer_fields.c.field_id)
    counts = dict(db.session.execute(
        select(top, func.count(distinct(offer_fields.c.offer_id))).join(Offer, Offer.id == offer_fields.c.offer_id)
        .where(Offer.status == "published").group_by(top)).all())
    return [(d, counts.get(d.id, 0)) for d in directions]


def _reused(name: str, compute, ttl: int, cache: dict):
    """``compute()``'s plain result, reused for ``ttl`` seconds through ``cache`` (the caller's, per app)."""
    if ttl <= 0:
        return compute()
    now = time.monotonic()
    hit = cache.get(name)
    if hit is None or now - hit[0] >= ttl:
        hit = cache[name] = (now, compute())  # a race only computes twice
    return hit[1]


def home_figures(ttl: int, cache: dict) -> tuple[dict, list[tuple[Field, int]]]:
    """Headline figures and direction counts for the public home page, reused for ``ttl`` seconds (they
    change slowly and counting every published offer on each visit is the page's main cost)."""
    figures = _reused("headline", headline_figures, ttl, cache)
    counts = _reused("directions", lambda: [(d.id, n) for d, n in direction_counts()], ttl, cache)
    directions = {f.id: f for f in db.session.scalars(select(Field).where(Field.id.in_([i for i, _ in counts])))}
    return figures, [(directions[i], n) for i, n in counts if i in directions]


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

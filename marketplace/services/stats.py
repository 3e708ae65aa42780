"""Headline figures and counts for the home page and the operator dashboard."""
from __future__ import annotations

import time
from datetime import date, datetime, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, distinct, func, select

from marketplace.extensions import db
from marketplace.models import (Batch, Field, Introduction, IntroductionEvent, Need, Offer, Organization,
                                PatentDetail, Registration)
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


TREND_SERIES = (("offers", _l("Offers published")), ("needs", _l("Needs posted")),
                 ("introductions", _l("Introductions proposed")), ("signed", _l("Deals signed")),
                 ("registrations", _l("Event registrations")))


def _months(today: date, count: int) -> list[tuple[int, int]]:
    """The ``count`` calendar months ending with ``today``'s, oldest first, as (year, month)."""
    index = today.year * 12 + today.month - 1
    return [divmod(i, 12) for i in range(index - count + 1, index + 1)]


def trends(today: date, months: int = 12) -> dict:
    """Monthly counts over the last ``months`` months (this one included), from each record's own date:
    ``{"periods": ["2026-01", …], "counts": {key: [count per month]}, "labels": {key: label}}``."""
    periods = [(y, m + 1) for y, m in _months(today, months)]
    start = datetime(periods[0][0], periods[0][1], 1, tzinfo=timezone.utc)
    sources = {
        "offers": select(Offer.published_at).where(Offer.status == "published", Offer.published_at >= start),
        "needs": select(Need.created_at).where(Need.status != "draft", Need.created_at >= start),
        "introductions": select(Introduction.created_at).where(Introduction.created_at >= start),
        "signed": select(IntroductionEvent.created_at).where(IntroductionEvent.kind == "stage",
                                                            IntroductionEvent.to_stage == "signed",
                                                            IntroductionEvent.created_at >= start),
        "registrations": select(Registration.registered_at).where(Registration.registered_at >= start),
    }
    position = {p: i for i, p in enumerate(periods)}
    counts_by_key = {}
    for key, query in sources.items():
        counts = [0] * len(periods)
        for (stamp,) in db.session.execute(query):  # bucketed here: month functions differ between databases
            i = position.get((stamp.year, stamp.month))
            if i is not None:
                counts[i] += 1
        counts_by_key[key] = counts
    return {"periods": [f"{y}-{m:02d}" for y, m in periods], "counts": counts_by_key, "labels": dict(TREND_SERIES)}


def first_run_status() -> dict:
    """What an operator has set up so far; ``empty`` when nothing is published and no batch exists yet
    (the dashboard then shows the first-run page)."""
    published = db.session.scalar(select(func.count(Offer.id)).where(Offer.status == "published")) or 0
    batches = db.session.scalar(select(func.count(Batch.id))) or 0
    return {
        "empty": published == 0 and batches == 0,
        "fields": db.session.scalar(select(func.count(Field.id))) or 0,
        "organizations": db.session.scalar(select(func.count(Organization.id))) or 0,
        "submitted": db.session.scalar(select(func.count(Offer.id)).where(Offer.status == "submitted")) or 0,
        "approved": db.session.scalar(select(func.count(Offer.id)).where(Offer.status == "approved")) or 0,
        "published": published,
        "batches": batches,
    }


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

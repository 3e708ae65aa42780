"""The high-value patent funnel: screened -> shortlisted -> high_value (published in numbered batches).

Operators tune the weights of the transparent score (``patent_value``), rescore the funnel, shortlist by hand
or the top K, and publish the top N shortlisted patents as a new high-value batch. Every function checks that
the user is staff, only flushes, and leaves the commit to the caller's unit of work.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from marketplace import jobs
from marketplace.extensions import db
from marketplace.models import Batch, Offer, PatentDetail
from marketplace.models.catalogue import CURATION_STAGES
from marketplace.services import access, funnel_counts
from marketplace.services.errors import PermissionDenied, ValidationFailed
from marketplace.services.funnel_counts import INACTIVE_STATUSES, PRIVATE_STATUSES, in_funnel  # noqa: F401
from marketplace.services.matching import REBUILD_JOB
from marketplace.services.patent_value import (
    DEFAULT_WEIGHTS,
    INDICATOR_ATTRIBUTES,
    PatentIndicators,
    indicators_of,
    normalised_parts,
    value_score,
)
from marketplace.services.verification import lock_batch_numbering, next_batch_number  # batches of both kinds share numbers

RESCORED_STAGES = ("screened", "shortlisted")  # published batches keep the score they were chosen with
MAX_WEIGHT = 1000
MAX_BATCH_SIZE = 500

INDICATOR_LABELS = {
    "legal_status": _l("Legal status"),
    "remaining_term": _l("Remaining term"),
    "claims": _l("Claims"),
    "citations": _l("Citations"),
    "family_size": _l("Family size"),
    "transfer_willingness": _l("Willingness to transfer"),
    "market_prospect": _l("Market prospects"),
}
STAGE_LABELS = {"screened": _l("Screened"), "shortlisted": _l("Shortlisted"), "high_value": _l("High-value")}


def require_staff(user) -> None:
    """Raise PermissionDenied unless the user is an operator or admin."""
    if not access.is_staff(user):
        raise PermissionDenied(_l("Only platform operators may curate patents."))


def parse_weights(data: dict) -> dict[str, float]:
    """Weights from form data, one per indicator of DEFAULT_WEIGHTS: non-negative numbers, not all zero.

    A missing or blank weight counts as 0. Raises ValidationFailed with one error per bad field.
    """
    weights: dict[str, float] = {}
    errors: dict[str, object] = {}
    for key in DEFAULT_WEIGHTS:
        raw = data.get(key)
        text = "" if raw is None else str(raw).strip()
        if not text:
            weights[key] = 0.0
            continue
        try:
            number = Decimal(text)
            if not number.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors[key] = _l("Enter a number.")
            continue
        if number < 0:
            errors[key] = _l("Must not be negative.")
        elif number > MAX_WEIGHT:
            errors[key] = _l("Enter a number between %(a)s and %(b)s.", a=0, b=MAX_WEIGHT)
        weights[key] = float(number)
    if not errors and not any(weights.values()):
        errors[next(iter(DEFAULT_WEIGHTS))] = _l("At least one weight must be above zero.")
    if errors:
        raise ValidationFailed(_l("Please correct the highlighted weights."), field_errors=errors)
    return weights


def weights_or_default(weights: dict | None) -> dict[str, float]:
    """Stored weights if they are complete and usable, else the defaults (for the session's copy)."""
    try:
        return parse_weights(weights or {}) if weights else dict(DEFAULT_WEIGHTS)
    except ValidationFailed:
        return dict(DEFAULT_WEIGHTS)


@dataclass
class ScoreBreakdown:
    """A patent's normalised indicators (0..1) and their weighted contributions to the 0..100 score."""

    score: float
    parts: dict[str, float]
    contributions: dict[str, float]


def score_breakdown(detail: PatentDetail, weights: dict | None = None, today: date | None = None) -> ScoreBreakdown:
    """Score of one patent with the given weights, with every indicator's contribution."""
    indicators = indicators_of(detail)
    score, contributions = value_score(indicators, weights or DEFAULT_WEIGHTS, today)
    return ScoreBreakdown(score=score, parts=normalised_parts(indicators, today), contributions=contributions)


def stage_counts() -> dict[str, int]:
    """Number of patents at each funnel stage (kept per stage in the same transaction as every change)."""
    return funnel_counts.stage_counts()


def stage_query(stage: str):
    """Patents at one funnel stage, best score first (unscored last, equal scores newest first)."""
    if stage not in CURATION_STAGES:
        stage = "screened"
    # Ordered on the detail's own columns, equal scores newest first, so the (stage, score, offer) index read
    # backwards serves the whole order and the paging (no sort of the stage's 100,000+ patents).
    return (select(Offer).join(PatentDetail, PatentDetail.offer_id == Offer.id)
            .where(PatentDetail.curation_stage == stage, in_funnel())
            .order_by(PatentDetail.value_score.desc().nulls_last(), PatentDetail.offer_id.desc()))


RESCORE_CHUNK = 1000  # rows per UPDATE statement when rescoring


def rescore_funnel(user, weights: dict) -> int:
    """Recompute the value score of every screened and shortlisted patent with ``weights``; returns how many.

    Reads only the indicator columns and writes the scores back in bulk by primary key (no record objects:
    the funnel holds 100,000+ patents)."""
    require_staff(user)
    rows = db.session.execute(
        select(PatentDetail.offer_id, *(getattr(PatentDetail, name) for name in INDICATOR_ATTRIBUTES)).join(Offer, Offer.id == PatentDetail.offer_id)
        .where(PatentDetail.curation_stage.in_(RESCORED_STAGES), in_funnel())).all()
    today = date.today()
    scores = [{"offer_id": row.offer_id,
               "value_score": value_score(PatentIndicators(*row[1:]), weights, today)[0]} for row in rows]
    for start in range(0, len(scores), RESCORE_CHUNK):
        db.session.execute(update(PatentDetail), scores[start:start + RESCORE_CHUNK])
    db.session.flush()
    _forget_loaded_details()
    return len(scores)


def _forget_loaded_details() -> None:
    """Bulk statements bypass the loaded records: expire the patent details this session holds."""
    for instance in list(db.session.identity_map.values()):
        if isinstance(instance, PatentDetail):
            db.session.expire(instance)


def _details_for(offer_ids: list[int], stage: str) -> list[PatentDetail]:
    if not offer_ids:
        return []
    return list(db.session.scalars(select(PatentDetail).join(Offer, Offer.id == PatentDetail.offer_id)
                                   .where(PatentDetail.offer_id.in_(offer_ids),
                                          PatentDetail.curation_stage == stage, in_funnel())))


def shortlist(user, offer_ids: list[int]) -> int:
    """Move the chosen screened patents to the shortlist; returns how many moved."""
    require_staff(user)
    details = _details_for(offer_ids, "screened")
    for detail in details:
        detail.curation_stage = "shortlisted"
    db.session.flush()
    return len(details)


def unshortlist(user, offer_ids: list[int]) -> int:
    """Send the chosen shortlisted patents back to screened; returns how many moved."""
    require_staff(user)
    details = _details_for(offer_ids, "shortlisted")
    for detail in details:
        detail.curation_stage = "screened"
    db.session.flush()
    return len(details)


def _positive_count(value, limit: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed(_l("Enter a whole number."), field_errors={"n": _l("Enter a whole number.")}) from None
    if not 1 <= number <= limit:
        message = _l("Enter a number between %(a)s and %(b)s.", a=1, b=limit)
        raise ValidationFailed(message, field_errors={"n": message})
    return number


def shortlist_top(user, k) -> int:
    """Shortlist the K best-scoring screened patents; returns how many moved (one UPDATE, whatever K)."""
    require_staff(user)
    k = _positive_count(k, 100_000)
    best = stage_query("screened").with_only_columns(Offer.id).limit(k)
    moved = funnel_counts.bulk_move(db.session, best, "screened", "shortlisted")  # counts kept in the same UPDATE
    _forget_loaded_details()
    return len(moved)


def publish_top_shortlisted(user, n) -> Batch:
    """Publish the N best-scoring shortlisted patents as a new high-value batch.

    The batch gets the next number and a bilingual title and note; each patent is published now, joins the
    batch and moves to the 'high_value' stage.
    """
    require_staff(user)
    n = _positive_count(n, MAX_BATCH_SIZE)
    lock_batch_numbering()  # a release running now has published its patents before we pick ours
    offers = list(db.session.scalars(stage_query("shortlisted").limit(n)))
    if not offers:
        raise ValidationFailed(_l("No shortlisted patents to publish. Shortlist some first."))
    shortlisted = stage_counts()["shortlisted"]
    number = next_batch_number()
    count = len(offers)
    batch = Batch(number=number, kind="high_value",
                  title_zh=f"高价值专利第{number}批：{count}件专利",
                  title_en=f"High-value patents, batch {number}: {count} patent{'s' if count != 1 else ''}",
                  note_zh=f"从{shortlisted}件入围专利中按价值评分遴选{count}件转化意愿强、市场前景好的专利。",
                  note_en=f"{count} of {shortlisted} shortlisted patents, chosen by value score for strong "
                          f"willingness to transfer and good market prospects.",
                  published_on=date.today(), released_by_id=getattr(user, "id", None))
    db.session.add(batch)
    now = datetime.now(timezone.utc)
    for offer in offers:
        offer.status = "published"
        offer.published_at = now
        offer.batch = batch
        offer.patent.curation_stage = "high_value"
    db.session.flush()
    jobs.enqueue(db.session, REBUILD_JOB)  # newly published offers change every need's ranking
    return batch

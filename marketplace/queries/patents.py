"""Reads of patents: the public high-value list, the operators' curation funnel and the API's patent list."""
from __future__ import annotations

import math
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from marketplace import visibility
from marketplace.extensions import db
from marketplace.models import Offer, PatentDetail
from marketplace.queries.catalogue import CARD_LOAD, OFFER_LOAD, get_offer
from marketplace.queries.paging import Page, fetch_page, valid_id
from marketplace.services import access, curation
from marketplace.services.errors import NotFound

# Orders of the public high-value list.
HIGH_VALUE_SORTS = {
    "score": lambda: (PatentDetail.value_score.desc().nulls_last(), Offer.id),
    "score_asc": lambda: (PatentDetail.value_score.asc().nulls_last(), Offer.id),
    "newest": lambda: (Offer.published_at.desc().nulls_last(), Offer.id.desc()),
}


def _patents(viewer):
    return (select(Offer).join(PatentDetail, PatentDetail.offer_id == Offer.id)
            .where(access.offer_visibility_clause(viewer), Offer.status == "published"))


def get_patent(viewer, offer_id: int) -> Offer:
    """The offer if it is a patent ``viewer`` may see, else NotFound."""
    offer = get_offer(viewer, offer_id)
    if offer.patent is None:
        raise NotFound(_l("This patent does not exist or is not visible to you."))
    return offer


def high_value_patents(viewer, sort: str, page: int, per_page: int) -> Page:
    """Published high-value patents ``viewer`` may see, ordered by one of ``HIGH_VALUE_SORTS``."""
    order = HIGH_VALUE_SORTS.get(sort, HIGH_VALUE_SORTS["score"])()
    query = _patents(viewer).where(PatentDetail.curation_stage == "high_value").order_by(*order)
    return fetch_page(query, page, per_page)


def top_high_value_patents(limit: int = 6) -> list[Offer]:
    """The best-scoring published high-value patents (the home page's showcase)."""
    return list(db.session.scalars(
        select(Offer).join(PatentDetail).where(PatentDetail.curation_stage == "high_value",
                                               Offer.status == "published")
        .order_by(PatentDetail.value_score.desc().nulls_last(), Offer.id).limit(limit).options(*CARD_LOAD)))


def funnel_stage_offers(stage: str, page: int, per_page: int) -> list[Offer]:
    """One page of the patents at a curation stage, best score first (staff only; the caller checks).

    The page's details come with the join the stage is selected by, and its organisations in one more query,
    so the page costs the same number of queries at 100 patents or 100,000. Numbered pages skip the rows before
    them (an old ``?page=N`` link); the funnel's own links seek with ``funnel_stage_seek`` instead."""
    query = _funnel_rows(curation.stage_query(stage))  # the funnel's own definition of its stages and order
    return list(db.session.scalars(query.offset((max(page, 1) - 1) * per_page).limit(per_page)))


def _funnel_rows(query):
    return query.options(contains_eager(Offer.patent), selectinload(Offer.organization))


@dataclass(frozen=True)
class FunnelCursor:
    """A row's place in the funnel's order (score, unscored last; then offer id, newest first)."""

    score: float | None
    offer_id: int

    def token(self) -> str:
        """The cursor as a URL value: ``score~id``, the score left empty when unscored."""
        return f"{'' if self.score is None else repr(self.score)}~{self.offer_id}"

    @classmethod
    def parse(cls, token: str | None) -> FunnelCursor | None:
        """The cursor a URL value names, or None when it names none (a hand-edited link pages by number)."""
        score, sep, offer_id = (token or "").partition("~")
        try:
            cursor = cls(float(score) if score else None, int(offer_id))
        except ValueError:
            return None
        if not sep or not valid_id(cursor.offer_id) or (cursor.score is not None and not math.isfinite(cursor.score)):
            return None
        return cursor

    @classmethod
    def of(cls, offer: Offer) -> FunnelCursor:
        """The place of one listed patent."""
        return cls(offer.patent.value_score, offer.id)


def funnel_stage_seek(stage: str, per_page: int, *, after: FunnelCursor | None = None,
                      before: FunnelCursor | None = None) -> list[Offer]:
    """The page of a stage that follows ``after`` (or precedes ``before``) in the funnel's order.

    Seeks in the (stage, score, offer) index from the cursor rather than skipping the rows before it, so page
    5,000 costs what page 2 costs. Scored and unscored patents are read by separate statements (each a range of
    the index; an ``OR IS NULL`` would make the database read the stage in full), the second one only when the
    first does not fill the page."""
    if before is not None:
        return _seek_backwards(stage, per_page, before)
    if after is None:
        return funnel_stage_offers(stage, 1, per_page)
    base = curation.stage_query(stage)
    score, offer_id = PatentDetail.value_score, PatentDetail.offer_id
    if after.score is None:
        return list(db.session.scalars(_funnel_rows(base.where(score.is_(None), offer_id < after.offer_id))
                                       .limit(per_page)))
    # ``score <= s`` bounds the index range; the tie rule drops the rows of the same score already shown.
    scored = base.where(score <= after.score, or_(score < after.score, offer_id < after.offer_id))
    rows = list(db.session.scalars(_funnel_rows(scored).limit(per_page)))
    if len(rows) < per_page:
        rows += db.session.scalars(_funnel_rows(base.where(score.is_(None))).limit(per_page - len(rows)))
    return rows


def _seek_backwards(stage: str, per_page: int, before: FunnelCursor) -> list[Offer]:
    """The rows just before ``before``, read in the reverse order and returned in the funnel's order."""
    base = curation.stage_query(stage).order_by(None)
    score, offer_id = PatentDetail.value_score, PatentDetail.offer_id
    # Ascending with unscored first is the index read backwards on both databases (no NULL is read here).
    if before.score is None:
        rows = list(db.session.scalars(_funnel_rows(base.where(score.is_(None), offer_id > before.offer_id))
                                       .order_by(offer_id.asc()).limit(per_page)))
        if len(rows) < per_page:
            rows += db.session.scalars(_funnel_rows(base.where(score.is_not(None)))
                                       .order_by(score.asc().nulls_first(), offer_id.asc()).limit(per_page - len(rows)))
    else:
        rows = list(db.session.scalars(
            _funnel_rows(base.where(score >= before.score, or_(score > before.score, offer_id > before.offer_id)))
            .order_by(score.asc().nulls_first(), offer_id.asc()).limit(per_page)))
    rows.reverse()
    return rows


def list_patents(viewer, *, q: str | None = None, legal_status: str | None = None,
                 curation_stage: str | None = None, ipc: str | None = None, sort: str = "newest", page: int = 1,
                 per_page: int) -> Page:
    """Published patents ``viewer`` may see, filtered; ``sort="value"`` puts the best scores first.

    Legal status, application numbers and IPC classes are details: filters on them only match patents whose
    details the viewer may read without a logged view (else a filter would reveal a teaser's details).
    """
    query = _patents(viewer).options(*OFFER_LOAD)
    if legal_status:
        query = query.where(PatentDetail.legal_status == legal_status, visibility.OFFER_DETAIL.clause(viewer))
    if curation_stage:
        query = query.where(PatentDetail.curation_stage == curation_stage)
    if q:
        like = f"%{q}%"
        query = query.where(or_(Offer.title_zh.ilike(like), Offer.title_en.ilike(like),
                                PatentDetail.application_number.ilike(like) & visibility.OFFER_DETAIL.clause(viewer)))
    if ipc and ipc.strip():
        # IPC classes are a JSON list of strings: a class starting with the prefix appears in the stored text
        # as a quote followed by the prefix (in SQL, so a page reads 20 rows, not every matching patent).
        query = query.where(cast(PatentDetail.ipc_classes, String).icontains(f'"{ipc.strip().upper()}', autoescape=True),
                            visibility.OFFER_DETAIL.clause(viewer))
    order = ((PatentDetail.value_score.desc().nulls_last(),) if sort == "value"
             else (Offer.published_at.desc().nulls_last(),)) + (Offer.id.desc(),)
    return fetch_page(query.order_by(*order), page, per_page)

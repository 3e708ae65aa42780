"""Reads of patents: the public high-value list, the operators' curation funnel and the API's patent list."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from marketplace import visibility
from marketplace.extensions import db
from marketplace.models import Offer, PatentDetail
from marketplace.queries.catalogue import CARD_LOAD, OFFER_LOAD, get_offer
from marketplace.queries.paging import Page, fetch_page
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
    so the page costs the same number of queries at 100 patents or 100,000."""
    query = curation.stage_query(stage)  # the funnel's own definition of its stages and order
    query = query.options(contains_eager(Offer.patent), selectinload(Offer.organization))
    return list(db.session.scalars(query.offset((max(page, 1) - 1) * per_page).limit(per_page)))


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

"""Reads of offers and batches: the catalogue listing (site and API alike), one offer, related and own offers."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, bindparam, cast, exists, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from marketplace import page_cache, search_index
from marketplace.extensions import db
from marketplace.models import Batch, Field, Offer, Organization, PatentDetail
from marketplace.models.catalogue import offer_fields
from marketplace.queries import taxonomy
from marketplace.queries.hits import rows_for_hits
from marketplace.queries.paging import Page, fetch_page, valid_id
from marketplace.queries.prepared import PerViewer, nested_loop_joins
from marketplace.services import access
from marketplace.services.errors import NotFound
from marketplace.services.cleaning import parse_id
from search import SearchQuery, SearchUnavailable

# What offer cards and the API summaries show, loaded with the rows.
OFFER_LOAD = (selectinload(Offer.organization), selectinload(Offer.fields), selectinload(Offer.batch),
              selectinload(Offer.patent), selectinload(Offer.financial))
CARD_LOAD = (joinedload(Offer.organization), joinedload(Offer.batch))
# What an offer's page shows of it, read with the row (its fields by ``taxonomy.load_fields``): built once.
_PAGE_OFFER = select(Offer).where(Offer.id == bindparam("offer_id")).options(
    joinedload(Offer.organization), joinedload(Offer.batch), joinedload(Offer.patent), joinedload(Offer.financial))
# Sort keys of the catalogue, as the search library names them.
OFFER_SORTS = {"relevance": (), "newest": ("published_at:desc",), "maturity": ("trl:desc",),
               "title": ("title_en:asc",), "value": ("value_score:desc",)}
# Filters the listing understands, named as in the offers index (``org_id`` is the owning organisation).
OFFER_FILTERS = ("kind", "direction", "field", "batch", "trl", "regulatory", "partnership", "sub_park", "org_kind",
                 "org_id")


@dataclass
class OfferListing:
    """One page of the catalogue: ``hits`` are ``(offer, highlights)`` pairs in display order.

    ``degraded`` is set when the search engine was down and the database answered instead (no ranking, no
    facets, titles matched by substring).
    """

    hits: list[tuple[Offer, dict]]
    total: int
    page: int
    per_page: int
    facets: dict = field(default_factory=dict)
    degraded: bool = False

    @property
    def items(self) -> list[Offer]:
        return [offer for offer, _hl in self.hits]

    @property
    def pages(self) -> int:
        return (self.total + self.per_page - 1) // self.per_page


# --- one offer --------------------------------------------------------------------------------------------

def get_offer(viewer, offer_id: int, *, for_page: bool = False) -> Offer:
    """The offer if ``viewer`` may see it, else NotFound (drafts of others are not revealed).

    ``for_page`` reads what the detail page shows with it: its organisation, batch, patent and financial details
    joined, its fields in a second query.
    """
    if not valid_id(offer_id):
        offer = None
    elif for_page:
        offer = db.session.scalars(_PAGE_OFFER, {"offer_id": offer_id}).one_or_none()
        if offer is not None:
            taxonomy.load_fields(offer)
    else:
        offer = db.session.get(Offer, offer_id)
    return access.require_offer_view(viewer, offer)


# --- the listing ------------------------------------------------------------------------------------------

def clean_filters(filters: dict | None) -> dict[str, list[str]]:
    """Known filter names with their non-empty values as strings (the index's vocabulary)."""
    cleaned: dict[str, list[str]] = {}
    for name, values in (filters or {}).items():
        if name not in OFFER_FILTERS:
            continue
        values = [str(v) for v in (values if isinstance(values, (list, tuple)) else [values]) if v not in (None, "")]
        if values:
            cleaned[name] = values
    return cleaned


def list_offers(viewer, *, q: str = "", filters: dict | None = None, status: str | None = None,
                sort: str = "relevance", facets: tuple | list = (), highlight: bool = False, page: int = 1,
                per_page: int, lean: bool = False) -> OfferListing:
    """The offers ``viewer`` may see, filtered, sorted and paged: the catalogue of the site and of the API.

    Published offers with words to rank by or facets to count are answered by the search engine; other
    statuses (owners' and operators' work lists) by the database, which sees its own writes at once. When the
    engine is down the database answers the same filters, with ``degraded`` set. ``lean``: the engine's hits come
    with their organisation and batch only (the site's list; ``hits.rows_for_hits``).
    """
    filters = clean_filters(filters)
    status = status or "published"
    sort = sort if sort in OFFER_SORTS else "relevance"
    if sort == "relevance" and not q:
        sort = "newest"  # without words to rank by, relevance means newest first
    if status == "published" and (q or facets):
        try:
            return _from_index(viewer, q, filters, sort, facets, highlight, page, per_page, lean)
        except SearchUnavailable:
            listing = _from_database(viewer, q, filters, status, sort, page, per_page)
            listing.degraded = True
            return listing
    return _from_database(viewer, q, filters, status, sort, page, per_page)


def _from_index(viewer, q, filters, sort, facets, highlight, page, per_page, lean=False) -> OfferListing:
    query = SearchQuery(q=q, filters={"status": ["published"], **filters}, sort=list(OFFER_SORTS[sort]), page=page,
                        per_page=per_page, highlight=highlight, retrieve=())  # rows come from the database
    # Facet counts cost most of a listing and are the same on every page and in every order: kept a while for
    # everyone holding the same visibility tokens (page_cache.keep), asked with the hits when not kept.
    parts = {"q": q, "filters": filters, "facets": list(facets),
             "tokens": sorted(search_index.viewer_tokens(viewer))}
    counts = page_cache.recall("offer-facets", parts) if facets else {}
    if counts is None:
        query.facets = list(facets)
    result = search_index.search("offers", query, viewer)
    if counts is None:
        counts = result.facets
        page_cache.keep("offer-facets", parts, counts)
    return OfferListing(rows_for_hits(viewer, "offers", result.hits, lean=lean), result.total, page, per_page, facets=counts)


def _ints(values: list[str]) -> list[int]:
    return [n for n in map(parse_id, values) if n is not None]


def _json_list_has(column, values: list[str]):
    """A JSON list column holds any of ``values`` (text match on the stored list works on SQLite and PostgreSQL)."""
    return or_(*(cast(column, String).contains(f'"{v}"', autoescape=True) for v in values))


def _filter_clauses(filters: dict[str, list[str]]) -> list:
    """The index's filters as SQL conditions on offers (same meaning as the documents in ``search_index``)."""
    clauses = []
    for name, values in filters.items():
        if name == "kind":
            clauses.append(Offer.kind.in_(values))
        elif name == "field":
            clauses.append(Offer.fields.any(Field.code.in_(values)))
        elif name == "direction":  # a direction is the first part of a field code
            clauses.append(Offer.fields.any(or_(*(or_(Field.code == v, Field.code.startswith(f"{v}.", autoescape=True))
                                                  for v in values))))
        elif name == "batch":
            clauses.append(Offer.batch.has(Batch.number.in_(_ints(values))))
        elif name == "trl":
            clauses.append(Offer.trl.in_(_ints(values)))
        elif name == "regulatory":
            clauses.append(_json_list_has(Offer.regulatory_statuses, values))
        elif name == "partnership":
            clauses.append(_json_list_has(Offer.partnership_modes, values))
        elif name == "sub_park":
            clauses.append(Offer.organization.has(Organization.sub_park.in_(values)))
        elif name == "org_kind":
            clauses.append(Offer.organization.has(Organization.kind.in_(values)))
        elif name == "org_id":
            clauses.append(Offer.organization_id.in_(_ints(values)))
    return clauses


def _from_database(viewer, q, filters, status, sort, page, per_page) -> OfferListing:
    query = (select(Offer).where(access.offer_visibility_clause(viewer), Offer.status == status,
                                 *_filter_clauses(filters)).options(*OFFER_LOAD))
    if q:
        query = query.where(or_(Offer.title_zh.icontains(q, autoescape=True),
                                Offer.title_en.icontains(q, autoescape=True)))
    newest = (Offer.published_at.desc().nulls_last(), Offer.id.desc())
    if sort == "maturity":
        query = query.order_by(Offer.trl.desc().nulls_last(), *newest)
    elif sort == "title":
        query = query.order_by(Offer.title_en, Offer.id)
    elif sort == "value":
        query = (query.outerjoin(PatentDetail, PatentDetail.offer_id == Offer.id)
                 .order_by(PatentDetail.value_score.desc().nulls_last(), *newest))
    else:
        query = query.order_by(*newest)
    found = fetch_page(query, page, per_page)
    return OfferListing([(o, {}) for o in found.items], found.total, page, per_page)


# --- around one offer -------------------------------------------------------------------------------------

class RelatedOffer(NamedTuple):
    """A line of an offer page's "related offers": only what the list shows."""

    id: int
    kind: str
    title_zh: str
    title_en: str | None


def _related_statement(viewer, same_kind: bool, limit: int):
    shares_a_field = exists().where(offer_fields.c.offer_id == Offer.id,
                                    offer_fields.c.field_id.in_(bindparam("field_ids", expanding=True)))
    kind = Offer.kind == bindparam("kind") if same_kind else Offer.kind != bindparam("kind")
    return (select(Offer.id, Offer.kind, Offer.title_zh, Offer.title_en)
            .where(Offer.id != bindparam("offer_id"), Offer.status == "published",
                   access.offer_visibility_clause(viewer), shares_a_field, kind)
            .order_by(Offer.published_at.desc().nulls_last(), Offer.id.desc()).limit(limit))


_RELATED = PerViewer(_related_statement)


def related_offers(viewer, offer: Offer, limit: int = 4) -> list[RelatedOffer]:
    """Published offers sharing the offer's subfields, same kind first, newest first.

    Two queries, same kind then the others, each stopping at ``limit``: one query ordered by "same kind" first
    had to sort every published offer of the fields. Joined by nested loops from the link table's field index
    (``nested_loop_joins``): PostgreSQL otherwise often hashed every offer of the kind (10,000 offers: 3-9 ms
    instead of 0.5-1). Only the columns the list shows are read, by statements built once per viewer.
    """
    field_ids = [f.id for f in offer.fields if f.parent_id is not None] or [f.id for f in offer.fields]
    if not field_ids:
        return []
    params = {"offer_id": offer.id, "field_ids": field_ids, "kind": offer.kind}
    with nested_loop_joins():
        found = [RelatedOffer(*row) for row in db.session.execute(_RELATED(viewer, True, limit), params)]
        if len(found) < limit:
            others = db.session.execute(_RELATED(viewer, False, limit), params)
            found += [RelatedOffer(*row) for row in others][:limit - len(found)]
    return found


def offers_of_organizations(org_ids, limit: int = 50) -> list[Offer]:
    """The offers of the member's own organisations, latest change first (every status: it is their work)."""
    if not org_ids:
        return []
    return list(db.session.scalars(select(Offer).where(Offer.organization_id.in_(org_ids))
                                   .order_by(Offer.updated_at.desc()).limit(limit)))


def published_offers_of(viewer, organization_id: int) -> list[Offer]:
    """An organisation's published offers that ``viewer`` may see (its profile page)."""
    return list(db.session.scalars(select(Offer).where(
        Offer.organization_id == organization_id, Offer.status == "published",
        access.offer_visibility_clause(viewer)).order_by(Offer.id)))


# --- batches ----------------------------------------------------------------------------------------------

def latest_regular_batch() -> Batch | None:
    """The regular batch with the highest number (the home page shows it)."""
    return db.session.scalar(select(Batch).where(Batch.kind == "regular").order_by(Batch.number.desc()).limit(1))


def batch_showcase(batch: Batch, limit: int = 6) -> list[Offer]:
    """A few public offers of a batch for the home page (no confidential ones, whoever looks)."""
    return list(db.session.scalars(
        select(Offer).where(Offer.batch_id == batch.id, Offer.status == "published",
                            Offer.visibility != "confidential").order_by(Offer.id).limit(limit).options(*CARD_LOAD)))


def published_batches() -> list[tuple[Batch, int]]:
    """Published batches, newest first, each with its number of offers."""
    return [tuple(row) for row in db.session.execute(
        select(Batch, func.count(Offer.id)).join(Offer, Offer.batch_id == Batch.id, isouter=True)
        .where(Batch.published_on.is_not(None)).group_by(Batch.id).order_by(Batch.number.desc()))]


def get_batch(number: int) -> Batch:
    """The batch with this number, or NotFound."""
    batch = db.session.scalar(select(Batch).where(Batch.number == number)) if valid_id(number) else None
    if batch is None:
        raise NotFound(_l("This record does not exist or is not visible to you."))
    return batch


def batch_offers(viewer, batch: Batch, page: int, per_page: int) -> Page:
    """The published offers of a batch that ``viewer`` may see, in catalogue order."""
    query = select(Offer).where(Offer.batch_id == batch.id, Offer.status == "published",
                                access.offer_visibility_clause(viewer)).order_by(Offer.id)
    return fetch_page(query, page, per_page)


def batch_titles(numbers, lang: str) -> dict[str, str]:
    """Batch titles in ``lang`` keyed by number as text (facet labels)."""
    numbers = [n for n in map(parse_id, numbers) if n is not None]
    if not numbers:
        return {}
    return {str(b.number): b.title(lang) for b in db.session.scalars(select(Batch).where(Batch.number.in_(numbers)))}

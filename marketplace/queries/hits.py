"""Search hits (ids from the search library) turned back into database rows, in the engine's order."""
from __future__ import annotations

from sqlalchemy import select, true
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.models import Need, Offer, Organization
from marketplace.services import access


def _offers(viewer, lean: bool):
    options = (selectinload(Offer.organization), selectinload(Offer.batch))
    if not lean:
        options += (selectinload(Offer.fields), selectinload(Offer.patent), selectinload(Offer.financial))
    return Offer, access.offer_visibility_clause(viewer), options


def _needs(viewer, lean: bool):
    options = (selectinload(Need.organization),) + (() if lean else (selectinload(Need.fields),))
    return Need, access.need_visibility_clause(viewer), options


def _organizations(viewer, lean: bool):
    return Organization, true(), ()  # profiles are public


SOURCES = {"offers": _offers, "needs": _needs, "organizations": _organizations}


def rows_for_hits(viewer, index_name: str, hits, *, lean: bool = False) -> list[tuple]:
    """``(row, highlights)`` for each hit of ``index_name``, in the hits' order.

    ``lean``: only the organisation (and an offer's batch) is loaded with each row, what a page's list of results
    shows; otherwise also the fields and the patent and financial details (the API's representations).

    Rows the viewer may not see, or that are gone, are dropped: the index may lag behind the database, and the
    visibility rule of the database is the one that counts.
    """
    wanted = []
    for hit in hits:
        try:
            wanted.append((int(hit.id), hit.highlights))
        except (TypeError, ValueError):
            continue  # an id this database cannot hold
    if not wanted:
        return []
    model, clause, options = SOURCES[index_name](viewer, lean)
    found = {row.id: row for row in db.session.scalars(
        select(model).where(model.id.in_([i for i, _hl in wanted]), clause).options(*options))}
    return [(found[i], highlights) for i, highlights in wanted if i in found]

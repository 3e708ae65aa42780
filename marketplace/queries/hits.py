"""Search hits (ids from the search library) turned back into database rows, in the engine's order."""
from __future__ import annotations

from sqlalchemy import select, true
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.models import Need, Offer, Organization
from marketplace.services import access


def _offers(viewer):
    return Offer, access.offer_visibility_clause(viewer), (
        selectinload(Offer.organization), selectinload(Offer.batch), selectinload(Offer.fields),
        selectinload(Offer.patent), selectinload(Offer.financial))


def _needs(viewer):
    return Need, access.need_visibility_clause(viewer), (selectinload(Need.organization), selectinload(Need.fields))


def _organizations(viewer):
    return Organization, true(), ()  # profiles are public


SOURCES = {"offers": _offers, "needs": _needs, "organizations": _organizations}


def rows_for_hits(viewer, index_name: str, hits) -> list[tuple]:
    """``(row, highlights)`` for each hit of ``index_name``, in the hits' order.

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
    model, clause, options = SOURCES[index_name](viewer)
    found = {row.id: row for row in db.session.scalars(
        select(model).where(model.id.in_([i for i, _hl in wanted]), clause).options(*options))}
    return [(found[i], highlights) for i, highlights in wanted if i in found]

"""Reads of the field taxonomy (directions and their subfields)."""
from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.extensions import db
from marketplace.models import Field, Need, Offer
from marketplace.models.catalogue import offer_fields
from marketplace.models.needs import need_fields


def _fields_statement(link, item_column):
    return (select(Field).join(link, link.c.field_id == Field.id).where(item_column == bindparam("item_id"))
            .order_by(link.c.field_id))


# Built once: an offer's or need's page asks on every visit, and building cost more than running it.
_FIELDS_OF = {Offer: _fields_statement(offer_fields, offer_fields.c.offer_id),
              Need: _fields_statement(need_fields, need_fields.c.need_id)}


def load_fields(item: Offer | Need) -> None:
    """Fill the ``fields`` of an offer or need just read, as ``selectinload`` would, with a statement built once
    (a selectin load of two or three rows cost about as much as reading the item with its joined rows)."""
    rows = db.session.scalars(_FIELDS_OF[type(item)], {"item_id": item.id})
    set_committed_value(item, "fields", list(rows))


def field_tree() -> list[Field]:
    """The top-level fields (directions) in display order; forms walk their children."""
    return list(db.session.scalars(select(Field).where(Field.parent_id.is_(None)).order_by(Field.sort_order)))


def field_names(codes, lang: str) -> dict[str, str]:
    """Field names in ``lang`` keyed by code (facet labels); unknown codes are left out."""
    codes = set(codes)
    if not codes:
        return {}
    return {f.code: f.name(lang) for f in db.session.scalars(select(Field).where(Field.code.in_(codes)))}

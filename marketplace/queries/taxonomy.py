"""Reads of the field taxonomy (directions and their subfields)."""
from __future__ import annotations

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Field


def field_tree() -> list[Field]:
    """The top-level fields (directions) in display order; forms walk their children."""
    return list(db.session.scalars(select(Field).where(Field.parent_id.is_(None)).order_by(Field.sort_order)))


def field_names(codes, lang: str) -> dict[str, str]:
    """Field names in ``lang`` keyed by code (facet labels); unknown codes are left out."""
    codes = set(codes)
    if not codes:
        return {}
    return {f.code: f.name(lang) for f in db.session.scalars(select(Field).where(Field.code.in_(codes)))}

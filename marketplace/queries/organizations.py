"""Reads of organisations: profiles and the list."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from marketplace.extensions import db
from marketplace.models import Organization
from marketplace.queries.paging import Page, fetch_page, valid_id
from marketplace.services.errors import NotFound


def get_organization(org_id: int) -> Organization:
    """The organisation (profiles are public), or NotFound."""
    org = db.session.get(Organization, org_id) if valid_id(org_id) else None
    if org is None:
        raise NotFound(_l("This record does not exist or is not visible to you."))
    return org


def list_organizations(*, q: str | None = None, kind: str | None = None, verified: bool | None = None,
                       page: int = 1, per_page: int) -> Page:
    """Organisations by Chinese name, filtered by kind, verification and a name fragment."""
    query = select(Organization)
    if kind:
        query = query.where(Organization.kind == kind)
    if verified is not None:
        query = query.where(Organization.verified == verified)
    if q:
        like = f"%{q}%"
        query = query.where(or_(Organization.name_zh.ilike(like), Organization.name_en.ilike(like),
                                Organization.short_name.ilike(like)))
    return fetch_page(query.order_by(Organization.name_zh, Organization.id), page, per_page)


def all_organizations(limit: int = 1000) -> list[Organization]:
    """Organisations by Chinese name, at most ``limit`` (operators' choice lists)."""
    return list(db.session.scalars(select(Organization).order_by(Organization.name_zh).limit(limit)))

"""Reads of needs: the public list, one need, an organisation's needs."""
from __future__ import annotations

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import joinedload, selectinload

from marketplace.extensions import db
from marketplace.models import Field, Need
from marketplace.queries import taxonomy
from marketplace.queries.paging import Page, fetch_page, valid_id
from marketplace.services import access

NEED_LOAD = (selectinload(Need.organization), selectinload(Need.fields))
# A need's page: the need with its organisation (its fields by ``taxonomy.load_fields``), built once.
_PAGE_NEED = select(Need).where(Need.id == bindparam("need_id")).options(joinedload(Need.organization))
LISTED_STATUSES = ("open", "matched")  # what the API lists when no status is asked for


def get_need(viewer, need_id: int, *, for_page: bool = False) -> Need:
    """The need if ``viewer`` may see it, else NotFound.

    ``for_page`` loads its organisation and fields with it (the page shows both)."""
    if not valid_id(need_id):
        need = None
    elif for_page:
        need = db.session.scalars(_PAGE_NEED, {"need_id": need_id}).one_or_none()
        if need is not None:
            taxonomy.load_fields(need)
    else:
        need = db.session.get(Need, need_id)
    return access.require_need_view(viewer, need)


def list_needs(viewer, *, statuses=LISTED_STATUSES, kind: str | None = None, field: str | None = None,
               organization_id: int | None = None, q: str | None = None, page: int = 1, per_page: int) -> Page:
    """Needs ``viewer`` may see with one of ``statuses``, filtered, newest first."""
    query = (select(Need).where(access.need_visibility_clause(viewer), Need.status.in_(tuple(statuses)))
             .options(*NEED_LOAD))
    if kind:
        query = query.where(Need.kind == kind)
    if field:
        query = query.where(Need.fields.any(Field.code == field))
    if organization_id:
        query = query.where(Need.organization_id == organization_id)
    if q:
        like = f"%{q}%"
        query = query.where(or_(Need.title_zh.ilike(like), Need.title_en.ilike(like)))
    return fetch_page(query.order_by(Need.created_at.desc(), Need.id.desc()), page, per_page)


def needs_of_organizations(org_ids, limit: int | None = None) -> list[Need]:
    """The needs of the member's own organisations, latest change first (every status: it is their work)."""
    if not org_ids:
        return []
    query = select(Need).where(Need.organization_id.in_(org_ids)).order_by(Need.updated_at.desc())
    return list(db.session.scalars(query.limit(limit) if limit else query))


def open_needs_of(viewer, organization_id: int) -> list[Need]:
    """An organisation's open needs that ``viewer`` may see (its profile page)."""
    return list(db.session.scalars(select(Need).where(
        Need.organization_id == organization_id, Need.status == "open",
        access.need_visibility_clause(viewer)).order_by(Need.id)))

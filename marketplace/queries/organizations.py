"""Reads of organisations: profiles, the list, members and open invitations."""
from __future__ import annotations

from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.models import Membership, Organization, OrganizationInvitation, User
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


def members(org_id: int) -> list[Membership]:
    """The organisation's memberships: owners first, then by name."""
    return list(db.session.scalars(select(Membership).join(User, User.id == Membership.user_id)
                                   .where(Membership.organization_id == org_id)
                                   .options(selectinload(Membership.user))
                                   .order_by(Membership.role.desc(), User.display_name, Membership.id)))


def open_invitations(org_id: int, now: datetime | None = None) -> list[OrganizationInvitation]:
    """Invitations not used, withdrawn or expired yet, newest first."""
    return list(db.session.scalars(select(OrganizationInvitation).where(
        OrganizationInvitation.organization_id == org_id, OrganizationInvitation.accepted_at.is_(None),
        OrganizationInvitation.revoked_at.is_(None),
        OrganizationInvitation.expires_at > (now or datetime.now(timezone.utc)))
        .order_by(OrganizationInvitation.created_at.desc(), OrganizationInvitation.id.desc())))


def membership_of(user, org_id: int) -> Membership | None:
    """The user's own membership of the organisation, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(Membership).where(Membership.user_id == user.id,
                                                      Membership.organization_id == org_id))

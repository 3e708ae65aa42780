"""Who may see and change what. Every view and API call goes through these checks."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import false, or_, true

from marketplace.models import Need, Offer
from marketplace.services.errors import NotFound, PermissionDenied

STAFF_ROLES = ("operator", "admin")


def _roles(user) -> set[str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    return user.role_names


def _org_ids(user) -> set[int]:
    if user is None or not getattr(user, "is_authenticated", False):
        return set()
    return user.org_ids


def is_staff(user) -> bool:
    """Operators and admins see and verify everything."""
    return bool(_roles(user) & set(STAFF_ROLES))


def is_broker(user) -> bool:
    return bool(_roles(user) & {"broker", "operator", "admin"})


def is_member_of(user, organization_id: int) -> bool:
    return organization_id in _org_ids(user)


# --- offers -------------------------------------------------------------------------------------------

def offer_visibility_clause(user):
    """SQL condition selecting the offers ``user`` may see in lists."""
    if is_staff(user):
        return true()
    public = (Offer.status == "published") & (Offer.visibility != "confidential")
    own = Offer.organization_id.in_(_org_ids(user)) if _org_ids(user) else false()
    if is_broker(user):
        public = Offer.status == "published"
    return or_(public, own)


def can_view_offer(user, offer: Offer) -> bool:
    if is_staff(user) or is_member_of(user, offer.organization_id):
        return True
    if offer.status != "published":
        return False
    return offer.visibility != "confidential" or is_broker(user)


def can_edit_offer(user, offer: Offer) -> bool:
    """Members edit their organisation's offers until they are published; staff always."""
    if is_staff(user):
        return True
    return is_member_of(user, offer.organization_id) and offer.status in ("draft", "changes_requested", "rejected")


def require_offer_view(user, offer: Offer | None) -> Offer:
    """Return the offer or raise NotFound (hiding the existence of drafts of other organisations)."""
    if offer is None or not can_view_offer(user, offer):
        raise NotFound(_l("This offer does not exist or is not published."))
    return offer


def require_offer_edit(user, offer: Offer | None) -> Offer:
    offer = require_offer_view(user, offer)
    if not can_edit_offer(user, offer):
        raise PermissionDenied(_l("You may not change this offer."))
    return offer


# --- needs --------------------------------------------------------------------------------------------

def need_visibility_clause(user):
    """SQL condition selecting the needs ``user`` may see in lists."""
    if is_staff(user):
        return true()
    own = Need.organization_id.in_(_org_ids(user)) if _org_ids(user) else false()
    posted = Need.status != "draft"
    if is_broker(user):
        return or_(posted, own)
    return or_(posted & (Need.visibility != "confidential"), own)


def can_view_need(user, need: Need) -> bool:
    if is_staff(user) or is_member_of(user, need.organization_id):
        return True
    if need.status == "draft":
        return False
    return need.visibility != "confidential" or is_broker(user)


def can_edit_need(user, need: Need) -> bool:
    return is_staff(user) or is_member_of(user, need.organization_id)


def require_need_view(user, need: Need | None) -> Need:
    if need is None or not can_view_need(user, need):
        raise NotFound(_l("This need does not exist or is not visible to you."))
    return need


def require_need_edit(user, need: Need | None) -> Need:
    need = require_need_view(user, need)
    if not can_edit_need(user, need):
        raise PermissionDenied(_l("You may not change this need."))
    return need


def require_member(user, organization_id: int) -> None:
    """Raise PermissionDenied unless ``user`` belongs to the organisation (staff pass)."""
    if not (is_staff(user) or is_member_of(user, organization_id)):
        raise PermissionDenied(_l("You are not a member of this organisation."))

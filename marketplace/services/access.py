"""Who may change what, and the domain errors for what may not be seen or changed.

Who may *see* what is defined once in ``marketplace.visibility``; the view functions here are thin names onto it.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from marketplace import visibility
from marketplace.models import Need, Offer
from marketplace.services.errors import NotFound, PermissionDenied
from marketplace.visibility import STAFF_ROLES  # noqa: F401  (kept importable for callers)


def _roles(user) -> set[str]:
    return set(visibility.viewer_of(user).roles)


def _org_ids(user) -> set[int]:
    return set(visibility.viewer_of(user).org_ids)


def is_staff(user) -> bool:
    """Operators and admins see and verify everything."""
    return visibility.viewer_of(user).is_staff


def is_broker(user) -> bool:
    """Technology managers (brokers), operators and admins."""
    return visibility.viewer_of(user).is_broker


def is_member_of(user, organization_id: int) -> bool:
    """Is the user a member of the organisation?"""
    return organization_id in visibility.viewer_of(user).org_ids


# --- offers -------------------------------------------------------------------------------------------
# The view rules live in ``marketplace.visibility``; these names stay for the many callers.

def offer_visibility_clause(user):
    """SQL condition selecting the offers ``user`` may see in lists."""
    return visibility.OFFER_OPEN.clause(user)


def can_view_offer(user, offer: Offer) -> bool:
    """May ``user`` open the offer (details aside)?"""
    return visibility.OFFER_OPEN.allows(user, offer)


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
    return visibility.NEED_OPEN.clause(user)


def can_view_need(user, need: Need) -> bool:
    """May ``user`` open the need (details aside)?"""
    return visibility.NEED_OPEN.allows(user, need)


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

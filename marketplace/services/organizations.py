"""Organisation profiles: their owners keep the public description and contact details current."""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Membership, Organization
from marketplace.services import access
from marketplace.services.cleaning import Cleaner
from marketplace.services.errors import PermissionDenied, ValidationFailed

PROFILE_FIELDS = (("name_en", 200), ("short_name", 60), ("description_zh", 20000), ("description_en", 20000),
                  ("website", 200), ("contact_name", 100), ("contact_email", 200), ("contact_phone", 40))


def can_edit_profile(user, org: Organization) -> bool:
    """Owners of the organisation, and staff."""
    if access.is_staff(user):
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    return db.session.scalar(select(Membership.id).where(
        Membership.user_id == user.id, Membership.organization_id == org.id, Membership.role == "owner")) is not None


def update_profile(user, org: Organization, data: dict) -> Organization:
    """Change the profile fields present in ``data``; others keep their values. Only flushes."""
    if not can_edit_profile(user, org):
        raise PermissionDenied(_l("Only the organisation's owners may change its profile."))
    c = Cleaner(data)
    for key, length in PROFILE_FIELDS:
        if key in data:
            c.text(key, max_length=length)
    website = c.values.get("website")
    if website and not website.startswith(("https://", "http://")):
        c.error("website", _l("Enter a web address starting with https://."))
    email = c.values.get("contact_email")
    if email:
        try:
            c.values["contact_email"] = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            c.error("contact_email", _l("Enter a valid e-mail address."))
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=c.errors)
    for key, value in c.values.items():
        setattr(org, key, value)
    db.session.flush()
    return org

"""Organisation profiles and memberships: owners keep the profile current and decide who belongs.

Owners (membership role ``owner``) and operators edit the profile and manage the members; every member keeps
their own contact details for introductions. An organisation always keeps at least one owner: the last owner
can neither leave, nor be removed, nor be made a plain member. Services only flush.
"""
from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Membership, Organization
from marketplace.models.accounts import MEMBERSHIP_ROLES
from marketplace.models.organizations import GROWTH_STAGES, SIZE_CLASSES, SUB_PARKS
from marketplace.services import access, audit, locks, versions
from marketplace.services.cleaning import Cleaner, parse_id
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

PROFILE_FIELDS = (("name_en", 200), ("short_name", 60), ("description_zh", 20000), ("description_en", 20000),
                  ("website", 200), ("contact_name", 100), ("contact_email", 200), ("contact_phone", 40))
MAX_FIELDS = 10


def _membership(user, org_id: int) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(Membership).where(Membership.user_id == user.id,
                                                      Membership.organization_id == org_id))


def is_owner(user, org: Organization) -> bool:
    membership = _membership(user, org.id)
    return membership is not None and membership.role == "owner"


def is_member(user, org: Organization) -> bool:
    return _membership(user, org.id) is not None


def can_edit_profile(user, org: Organization) -> bool:
    """Owners of the organisation, and staff."""
    return access.is_staff(user) or is_owner(user, org)


# Who manages the members and invitations, and who sees the member list: the same people.
can_manage_members = can_edit_profile


def _clean_email(c: Cleaner, key: str) -> None:
    email = c.values.get(key)
    if email:
        try:
            c.values[key] = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            c.error(key, _l("Enter a valid e-mail address."))


def _clean_group_parent(c: Cleaner, org: Organization) -> None:
    """The organisation's declared group (its parent organisation's id): an existing other organisation that
    does not already sit below this one. Matching never pairs organisations of one group."""
    parent_id = c.integer("group_parent_id", min_value=1)
    if parent_id is None:
        return
    seen, current = {org.id}, parent_id
    while current is not None:
        if current in seen:
            c.error("group_parent_id", _l("An organisation cannot belong to its own group."))
            return
        seen.add(current)
        row = db.session.get(Organization, current)
        if row is None:
            c.error("group_parent_id", _l("No organisation has this number."))
            return
        current = row.group_parent_id


def update_profile(user, org: Organization, data: dict, *, remote_addr: str = "",
                   expected_version=None) -> Organization:
    """Change the profile fields present in ``data``; others keep their values. Only flushes.

    A save that started from an older ``expected_version`` is refused (``versions.StaleEdit``).
    """
    if not can_edit_profile(user, org):
        raise PermissionDenied(_l("Only the organisation's owners may change its profile."))
    org = versions.claim(org, expected_version)
    c = Cleaner(data)
    if "name_zh" in data:
        c.text("name_zh", required=True, max_length=200)
    for key, length in PROFILE_FIELDS:
        if key in data:
            c.text(key, max_length=length)
    if "sub_park" in data:
        c.choice("sub_park", SUB_PARKS)
    if "size_class" in data:
        c.choice("size_class", SIZE_CLASSES)
    if "mediated_only" in data:
        c.boolean("mediated_only")
    if "growth_stage" in data:
        c.choice("growth_stage", GROWTH_STAGES)
    if "group_parent_id" in data:
        _clean_group_parent(c, org)
    fields = None
    if "field_codes" in data:
        from marketplace.services.offers import fields_by_codes
        codes = c.tags("field_codes", max_items=MAX_FIELDS)
        fields, unknown = fields_by_codes(codes)
        if unknown:
            c.error("field_codes", _l("Unknown field code: %(v)s.", v=", ".join(unknown)))
        del c.values["field_codes"]
    website = c.values.get("website")
    if website and not website.startswith(("https://", "http://")):
        c.error("website", _l("Enter a web address starting with https://."))
    _clean_email(c, "contact_email")
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=c.errors)
    for key in ("sub_park", "size_class", "growth_stage"):
        if key in c.values:
            c.values[key] = c.values[key] or None
    changed = sorted(k for k, v in c.values.items() if getattr(org, k) != v)
    for key, value in c.values.items():
        setattr(org, key, value)
    if fields is not None and {f.id for f in fields} != {f.id for f in org.fields}:
        org.fields = fields
        changed.append("field_codes")
    db.session.flush()
    if changed:
        audit.record(db.session, actor_id=audit.actor_of(user), action="organization", object_type="organization",
                     object_id=org.id, organization_id=org.id, summary="profile: " + ", ".join(changed)[:200],
                     details={"change": "profile", "fields": changed}, remote_addr=remote_addr)
    return org


def profile_form_data(org: Organization) -> dict:
    """The profile as the edit form shows it."""
    data = {key: getattr(org, key) or "" for key, _n in PROFILE_FIELDS}
    data.update(name_zh=org.name_zh, sub_park=org.sub_park or "", size_class=org.size_class or "",
                mediated_only=org.mediated_only, field_codes=[f.code for f in org.fields],
                growth_stage=org.growth_stage or "", group_parent_id=org.group_parent_id or "")
    return data


# --- members --------------------------------------------------------------------------------------------

def _locked_org(org: Organization) -> Organization:
    """The organisation row locked for this transaction: two owners stepping down at once keep one of them."""
    return locks.lock(Organization, org.id)


def _owner_count(org_id: int) -> int:
    return db.session.scalar(select(func.count(Membership.id)).where(
        Membership.organization_id == org_id, Membership.role == "owner")) or 0


def get_membership(org: Organization, membership_id) -> Membership:
    """A membership of ``org`` (NotFound for other organisations' and for ids that cannot exist)."""
    membership = db.session.get(Membership, parse_id(membership_id) or 0)
    if membership is None or membership.organization_id != org.id:
        raise NotFound(_l("This member does not exist."))
    return membership


def _require_manager(user, org: Organization) -> None:
    if not can_manage_members(user, org):
        raise PermissionDenied(_l("Only the organisation's owners and operators manage its members."))


def _audit_member(user, org: Organization, membership: Membership, change: str, remote_addr: str, **details):
    audit.record(db.session, actor_id=audit.actor_of(user), action="organization", object_type="organization",
                 object_id=org.id, organization_id=org.id,
                 summary=f"member {membership.user_id}: {change}",
                 details={"change": change, "user_id": membership.user_id, **details}, remote_addr=remote_addr)


def change_role(user, org: Organization, membership_id, role: str, *, remote_addr: str = "") -> Membership:
    """Make a member an owner or a plain member (owners, operators); the last owner stays an owner."""
    _require_manager(user, org)
    if role not in MEMBERSHIP_ROLES:
        raise ValidationFailed(_l("Choose owner or member."), field_errors={"role": _l("Choose owner or member.")})
    org = _locked_org(org)
    membership = get_membership(org, membership_id)
    if membership.role == role:
        return membership
    if membership.role == "owner" and _owner_count(org.id) <= 1:
        raise Conflict(_l("An organisation needs at least one owner: make someone else an owner first."))
    old, membership.role = membership.role, role
    db.session.flush()
    _audit_member(user, org, membership, f"role {old} -> {role}", remote_addr, old=old, new=role)
    return membership


def remove_member(user, org: Organization, membership_id, *, remote_addr: str = "") -> None:
    """Take someone out of the organisation (owners, operators; anyone for themselves: leaving).
    The last owner cannot go."""
    if not can_manage_members(user, org):
        own = _membership(user, org.id)
        if own is None or own.id != parse_id(membership_id):
            raise PermissionDenied(_l("Only the organisation's owners and operators manage its members."))
    membership = get_membership(org, membership_id)
    org = _locked_org(org)
    if membership.role == "owner" and _owner_count(org.id) <= 1:
        raise Conflict(_l("The last owner cannot leave the organisation: make someone else an owner first."))
    change = "left" if membership.user_id == getattr(user, "id", None) else "removed"
    _audit_member(user, org, membership, change, remote_addr)
    db.session.delete(membership)
    db.session.flush()


def leave(user, org: Organization, *, remote_addr: str = "") -> None:
    """The user leaves the organisation (not as its last owner)."""
    membership = _membership(user, org.id)
    if membership is None:
        raise NotFound(_l("You do not belong to this organisation."))
    remove_member(user, org, membership.id, remote_addr=remote_addr)


def set_contact(user, org: Organization, data: dict) -> Membership:
    """The member's own e-mail and phone for introductions (empty: the organisation's are shown)."""
    membership = _membership(user, org.id)
    if membership is None:
        raise NotFound(_l("You do not belong to this organisation."))
    c = Cleaner(data)
    c.text("contact_email", max_length=200)
    c.text("contact_phone", max_length=40)
    _clean_email(c, "contact_email")
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=c.errors)
    membership.contact_email = c.values["contact_email"]
    membership.contact_phone = c.values["contact_phone"]
    db.session.flush()
    return membership

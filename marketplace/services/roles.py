"""Granting and revoking platform roles (operator, broker, organiser, admin), each written to the audit log.

Rules: only staff (operators, admins) change roles; only admins grant or revoke ``admin`` or change the roles of
an admin; the last admin keeps the role so the platform is never left without one.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.models import User, UserRole
from marketplace.models.accounts import PLATFORM_ROLES
from marketplace.services import access, audit
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


def _is_admin(user) -> bool:
    return "admin" in access._roles(user)


def require_staff(user) -> None:
    """Raise PermissionDenied unless ``user`` is an operator or admin."""
    if not access.is_staff(user):
        raise PermissionDenied(_l("Only platform operators may do this."))


def grantable_roles(actor) -> tuple[str, ...]:
    """The roles ``actor`` may grant or revoke."""
    if _is_admin(actor):
        return PLATFORM_ROLES
    if access.is_staff(actor):
        return tuple(r for r in PLATFORM_ROLES if r != "admin")
    return ()


def can_change(actor, target: User) -> bool:
    """Operators may not touch an admin's roles; admins may change anybody's."""
    return access.is_staff(actor) and (_is_admin(actor) or "admin" not in target.role_names)


def search_users(actor, q: str = "", role: str = "", page: int = 1, per_page: int = 25) -> tuple[list[User], int]:
    """Users whose e-mail or name contains ``q`` (optionally holding ``role``), by e-mail; and the total."""
    require_staff(actor)
    stmt = select(User)
    q = (q or "").strip().lower()[:200]
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(func.lower(User.email).like(pattern, escape="\\"),
                              func.lower(User.display_name).like(pattern, escape="\\")))
    if role in PLATFORM_ROLES:
        stmt = stmt.where(User.roles.any(UserRole.role == role))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    users = list(db.session.scalars(stmt.options(selectinload(User.roles), selectinload(User.memberships))
                                    .order_by(User.email).limit(per_page).offset((max(page, 1) - 1) * per_page)))
    return users, total


def _target(actor, user_id: int, role: str) -> User:
    require_staff(actor)
    target = db.session.get(User, user_id)
    if target is None:
        raise NotFound(_l("This user does not exist."))
    if role not in PLATFORM_ROLES:
        raise ValidationFailed(_l("Unknown role."))
    if role not in grantable_roles(actor) or not can_change(actor, target):
        raise PermissionDenied(_l("Only administrators may change administrator roles."))
    return target


def _audit(actor, target: User, role: str, change: str, remote_addr: str) -> None:
    audit.record(db.session, actor_id=audit.actor_of(actor), action="role_change", object_type="user",
                 object_id=target.id, summary=f"{change} role {role} {'to' if change == 'granted' else 'from'} "
                                              f"{target.email}",
                 details={"role": role, "change": change, "email": target.email}, remote_addr=remote_addr)


def grant(actor, user_id: int, role: str, *, remote_addr: str = "") -> User:
    """Give ``role`` to the user; a role they already hold changes nothing and is not logged. Only flushes."""
    target = _target(actor, user_id, role)
    if role in target.role_names:
        raise Conflict(_l("This user already has this role."))
    target.roles.append(UserRole(role=role))
    db.session.flush()
    _audit(actor, target, role, "granted", remote_addr)
    return target


def revoke(actor, user_id: int, role: str, *, remote_addr: str = "") -> User:
    """Take ``role`` away from the user (never the last admin's admin role). Only flushes."""
    target = _target(actor, user_id, role)
    held = [r for r in target.roles if r.role == role]
    if not held:
        raise Conflict(_l("This user does not have this role."))
    if role == "admin":
        admins = db.session.scalar(select(func.count(UserRole.id)).where(UserRole.role == "admin")) or 0
        if admins <= 1:
            raise Conflict(_l("The last administrator keeps the administrator role."))
    for r in held:
        target.roles.remove(r)
    db.session.flush()
    _audit(actor, target, role, "revoked", remote_addr)
    return target

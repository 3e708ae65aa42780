"""Registration, authentication with throttling, memberships and platform roles."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from marketplace.extensions import db
from marketplace.identifiers import is_valid_uscc, normalise_uscc
from marketplace.models import LoginAttempt, Membership, Organization, User, UserRole
from marketplace.models.accounts import PLATFORM_ROLES
from marketplace.models.organizations import ORG_KINDS, SIZE_CLASSES, SUB_PARKS
from marketplace.services import lockout
from marketplace.services.cleaning import CONTROL_CHARS, drop_lone_surrogates
from marketplace.services.errors import AuthenticationFailed, Conflict, ValidationFailed

PASSWORD_MIN_LENGTH = 12


@dataclass
class NewOrganization:
    kind: str
    name_zh: str
    name_en: str = ""
    uscc: str = ""
    sub_park: str | None = None
    size_class: str | None = None
    registered_in_park: bool = False


def check_password_strength(password: str, min_length: int = PASSWORD_MIN_LENGTH) -> None:
    """Raise ValidationFailed for passwords that are short or trivially guessable."""
    if len(password or "") < min_length:
        raise ValidationFailed(_l("Password must be at least %(n)d characters long.", n=min_length),
                               field_errors={"password": _l("At least %(n)d characters.", n=min_length)})
    if len(set(password)) < 4:
        raise ValidationFailed(_l("Password is too repetitive."),
                               field_errors={"password": _l("Password is too repetitive.")})


def normalise_email(email: str) -> str:
    """Validate syntax (no DNS lookup) and return the normalised address."""
    try:
        return validate_email((email or "").strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValidationFailed(_l("Enter a valid e-mail address."),
                               field_errors={"email": _l("Enter a valid e-mail address.")}) from None


def validate_new_organization(org: NewOrganization) -> dict:
    """Field errors (empty when valid) for an organisation a registrant creates."""
    errors: dict = {}
    if org.kind not in ORG_KINDS or org.kind == "operator":
        errors["org_kind"] = _l("Choose a valid organisation type.")
    if not (org.name_zh or "").strip():
        errors["org_name_zh"] = _l("The Chinese name is required.")
    if org.uscc and not is_valid_uscc(org.uscc):
        errors["org_uscc"] = _l("This unified social credit code is not valid (check character mismatch).")
    elif org.uscc and db.session.scalar(select(Organization.id).where(Organization.uscc == normalise_uscc(org.uscc))):
        errors["org_uscc"] = _l("An organisation with this credit code is already registered.")
    if org.sub_park and org.sub_park not in SUB_PARKS:
        errors["org_sub_park"] = _l("Choose a valid sub-park.")
    if org.size_class and org.size_class not in SIZE_CLASSES:
        errors["org_size_class"] = _l("Choose a valid size class.")
    return errors


def register_user(email: str, password: str, display_name: str, organization: NewOrganization | None = None,
                  locale: str | None = None, min_length: int = PASSWORD_MIN_LENGTH) -> User:
    """Create a user (and optionally their organisation, with them as owner). Flushes, does not commit."""
    errors: dict = {}
    try:
        email = normalise_email(email)
    except ValidationFailed as exc:
        errors.update(exc.field_errors)
    try:
        check_password_strength(password, min_length)
    except ValidationFailed as exc:
        errors.update(exc.field_errors)
    if not (display_name or "").strip():
        errors["display_name"] = _l("Enter your name.")
    if organization is not None:
        errors.update(validate_new_organization(organization))
    if errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=errors)
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(_l("An account with this e-mail already exists."),
                       field_errors={"email": _l("An account with this e-mail already exists.")})
    user = User(email=email, password_hash=generate_password_hash(password), display_name=display_name.strip(),
                locale=locale)
    db.session.add(user)
    if organization is not None:
        _add_organization(user, organization)
    db.session.flush()
    return user


def _add_organization(user: User, organization: NewOrganization) -> Organization:
    org = Organization(kind=organization.kind, name_zh=organization.name_zh.strip(),
                       name_en=(organization.name_en or "").strip(),
                       uscc=normalise_uscc(organization.uscc) or None, sub_park=organization.sub_park or None,
                       size_class=organization.size_class or None,
                       registered_in_park=organization.registered_in_park)
    db.session.add(org)
    db.session.add(Membership(user=user, organization=org, role="owner"))
    return org


def create_organization(user: User, organization: NewOrganization) -> Organization:
    """A registered user creates an organisation and becomes its owner (as at registration). Only flushes."""
    if not getattr(user, "is_authenticated", False):
        raise AuthenticationFailed(_l("Log in to create an organisation."))
    organization.name_zh = drop_lone_surrogates(CONTROL_CHARS.sub("", organization.name_zh or "")).strip()
    organization.name_en = drop_lone_surrogates(CONTROL_CHARS.sub("", organization.name_en or "")).strip()
    errors = validate_new_organization(organization)
    if len(organization.name_zh) > 200:
        errors["org_name_zh"] = _l("At most %(n)d characters.", n=200)
    if len(organization.name_en) > 200:
        errors["org_name_en"] = _l("At most %(n)d characters.", n=200)
    if errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=errors)
    org = _add_organization(user, organization)
    db.session.flush()
    db.session.expire(user, ["memberships"])
    return org


def set_password(user: User, password: str, min_length: int = PASSWORD_MIN_LENGTH) -> None:
    check_password_strength(password, min_length)
    user.password_hash = generate_password_hash(password)


def recent_failures(email: str, since: datetime) -> int:
    """Failed attempts for this address since ``since`` and since its last successful login."""
    last_ok = db.session.scalar(select(func.max(LoginAttempt.attempted_at))
                                .where(LoginAttempt.email == email, LoginAttempt.succeeded.is_(True)))
    floor = since
    if last_ok is not None:
        last_ok = last_ok if last_ok.tzinfo else last_ok.replace(tzinfo=timezone.utc)
        floor = max(floor, last_ok)
    return db.session.scalar(select(func.count(LoginAttempt.id)).where(
        LoginAttempt.email == email, LoginAttempt.succeeded.is_(False), LoginAttempt.attempted_at > floor)) or 0


def authenticate(email: str, password: str, remote_addr: str = "", *, max_failures: int = 5,
                 lockout_minutes: int = 15, site_timezone: str = "Asia/Shanghai",
                 now: datetime | None = None) -> User:
    """Check credentials, throttling repeated failures per account.

    Raises TooManyAttempts (saying until when) when the account has ``max_failures`` recent failures and
    AuthenticationFailed for a wrong address or password (same message for both). The failure that starts
    a lock also notifies the account's owner. Records the attempt either way; the caller's unit of work
    commits it.
    """
    now = now or datetime.now(timezone.utc)
    email_key = (email or "").strip().lower()
    window_start = now - timedelta(minutes=lockout_minutes)
    failures = recent_failures(email_key, window_start)
    if failures >= max_failures:
        until = lockout.locked_until(email_key, max_failures, lockout_minutes, now)
        raise lockout.locked_error(until or now + timedelta(minutes=lockout_minutes), now)
    user = db.session.scalar(select(User).where(User.email == email_key))
    ok = user is not None and user.active and check_password_hash(user.password_hash, password or "")
    db.session.add(LoginAttempt(email=email_key, remote_addr=remote_addr[:64], succeeded=ok, attempted_at=now,
                                failures_before=failures))
    db.session.flush()
    if not ok:
        left = max_failures - failures - 1
        if left <= 0:
            until = lockout.locked_until(email_key, max_failures, lockout_minutes, now) or (
                now + timedelta(minutes=lockout_minutes))
            if user is not None:
                lockout.notify_owner(user, failures + 1, until, site_timezone, remote_addr)
            raise lockout.locked_error(until, now)
        raise AuthenticationFailed(_l("Wrong e-mail or password. %(n)d attempts left before a temporary lock.",
                                      n=left))
    user.last_login_at = now
    return user


def grant_role(user: User, role: str) -> None:
    """Give a platform role (idempotent)."""
    if role not in PLATFORM_ROLES:
        raise ValidationFailed(_l("Unknown role."))
    if role not in user.role_names:
        user.roles.append(UserRole(role=role))
        db.session.flush()


def add_membership(user: User, organization: Organization, role: str = "member") -> Membership:
    """Add ``user`` to ``organization`` (idempotent)."""
    for m in user.memberships:
        if m.organization_id == organization.id:
            return m
    membership = Membership(user=user, organization=organization, role=role)
    db.session.add(membership)
    db.session.flush()
    return membership


_LOCALE_RE = re.compile(r"^(zh|en)$")


def set_locale(user: User, locale: str) -> None:
    if _LOCALE_RE.match(locale or ""):
        user.locale = locale

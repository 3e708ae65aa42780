"""Registration, authentication with throttling, memberships and platform roles."""
from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from marketplace.extensions import db
from marketplace.identifiers import is_valid_uscc, normalise_uscc
from marketplace.models import LoginAttempt, Membership, Organization, User, UserRole
from marketplace.models.accounts import PLATFORM_ROLES
from marketplace.models.organizations import ORG_KINDS, SIZE_CLASSES, SUB_PARKS
from marketplace.reference.common_passwords import COMMON_PASSWORDS
from marketplace.services import lockout, sessions
from marketplace.services.cleaning import CONTROL_CHARS, drop_lone_surrogates
from marketplace.services.errors import AddressTaken, AuthenticationFailed, ValidationFailed

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


def _password_refused(message) -> ValidationFailed:
    return ValidationFailed(message, field_errors={"password": message})


def check_password_strength(password: str, min_length: int = PASSWORD_MIN_LENGTH, email: str = "") -> None:
    """Raise ValidationFailed for passwords that are short or trivially guessable: too repetitive, digits
    only, one of the most common passwords (also followed by digits or symbols: ``password1234``), or the
    e-mail address or its local part."""
    password = password or ""
    if len(password) < min_length:
        raise ValidationFailed(_l("Password must be at least %(n)d characters long.", n=min_length),
                               field_errors={"password": _l("At least %(n)d characters.", n=min_length)})
    if len(set(password)) < 4:
        raise _password_refused(_l("Password is too repetitive."))
    if password.isdigit():
        raise _password_refused(_l("A password of digits only is easy to guess; add letters or words."))
    lowered = password.lower()
    stem = _COMMON_SUFFIX.sub("", lowered)
    if lowered in COMMON_PASSWORDS or stem in COMMON_PASSWORDS:
        raise _password_refused(_l("This is one of the most common passwords; choose one that is harder to guess."))
    local = (email or "").strip().lower().partition("@")[0]
    if local and (lowered == (email or "").strip().lower() or (len(local) >= 3 and stem == local)):
        raise _password_refused(_l("The password must not be your e-mail address or the part before the @."))


_COMMON_SUFFIX = re.compile(r"[\d\W_]+$")  # password1234, qwerty!2024: the common stem with digits or symbols


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
        check_password_strength(password, min_length, email=email)
    except ValidationFailed as exc:
        errors.update(exc.field_errors)
    if not (display_name or "").strip():
        errors["display_name"] = _l("Enter your name.")
    if organization is not None:
        errors.update(validate_new_organization(organization))
    if errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=errors)
    existing = db.session.scalar(select(User).where(User.email == email))
    if existing is not None:
        _tell_owner_of_registration(existing, now=datetime.now(timezone.utc))
        raise AddressTaken(_l("We sent a message to %(email)s. Please check your e-mail to continue.", email=email))
    user = User(email=email, password_hash=generate_password_hash(password), display_name=display_name.strip(),
                locale=locale)
    try:  # the same address registered twice at the same instant: the second hears what any taken address hears
        with db.session.begin_nested():
            db.session.add(user)
            if organization is not None:
                _add_organization(user, organization)
            db.session.flush()
    except IntegrityError as exc:
        from marketplace.services.unit_of_work import violated_constraint
        constraint = violated_constraint(exc)
        if constraint != "uq_users_email" and "users.email" not in constraint:
            raise
        existing = db.session.scalar(select(User).where(User.email == email))
        if existing is not None:
            _tell_owner_of_registration(existing, now=datetime.now(timezone.utc))
        raise AddressTaken(_l("We sent a message to %(email)s. Please check your e-mail to continue.",
                              email=email)) from exc
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


def _tell_owner_of_registration(user: User, now: datetime) -> None:
    """Someone tried to register an existing address: its owner hears of it (at most once a day)."""
    from marketplace.links import path_for
    from marketplace.services import notifications
    notifications.notify([user.id], "security", "registration_attempt", {}, path_for("auth.login"),
                         dedupe_key=f"register:{user.id}:{now:%Y%m%d}")


def set_password(user: User, password: str, min_length: int = PASSWORD_MIN_LENGTH, *,
                 keep_session: int | None = None) -> int:
    """New password; every session of the user ends except ``keep_session`` (the browser that changed it).
    Returns how many sessions ended."""
    check_password_strength(password, min_length, email=user.email)
    user.password_hash = generate_password_hash(password)
    return sessions.revoke_all(user, keep=keep_session)


def change_password(user: User, current: str, new: str, confirm: str, *, min_length: int = PASSWORD_MIN_LENGTH,
                    keep_session: int | None = None) -> int:
    """The user's own password change: the current password first, the new one twice. Returns how many other
    sessions ended."""
    if not check_password_hash(user.password_hash, current or ""):
        raise ValidationFailed(_l("Your current password is not correct."),
                               field_errors={"current_password": _l("Your current password is not correct.")})
    if (new or "") != (confirm or ""):
        raise ValidationFailed(_l("The passwords differ."), field_errors={"confirm": _l("The passwords differ.")})
    return set_password(user, new, min_length, keep_session=keep_session)


@functools.cache
def _dummy_hash() -> str:
    """A hash made as real ones are (same method and cost), checked for addresses without an account."""
    return generate_password_hash(secrets.token_urlsafe(16))


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
    if user is None:  # as slow as a wrong password for a real account: the answer time tells nothing
        check_password_hash(_dummy_hash(), password or "")
    ok = user is not None and check_password_hash(user.password_hash, password or "") and user.active
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

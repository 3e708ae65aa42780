"""Personal access tokens for the public API: created and revoked by their owner, stored hashed."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import ApiToken, User
from marketplace.models.security import TOKEN_SCOPES
from marketplace.services import audit
from marketplace.services.cleaning import Cleaner
from marketplace.services.errors import AuthenticationFailed, NotFound, ValidationFailed

TOKEN_PREFIX = "tb_"
MAX_TOKENS_PER_USER = 20
# Writing last_used_at on every call would turn each read into a write; once per few minutes is enough.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def hash_secret(secret: str) -> str:
    """Tokens are 256-bit random values, so a plain SHA-256 is a sufficient one-way store."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def active_tokens(user) -> list[ApiToken]:
    """The user's tokens that are not revoked, newest first."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                                   .order_by(ApiToken.id.desc())))


def create_token(user, data: dict) -> tuple[ApiToken, str]:
    """Create a token from plain data (name, scope, expires_in_days); returns it with the secret, shown once."""
    c = Cleaner(data)
    name = c.text("name", required=True, max_length=100)
    scope = c.choice("scope", TOKEN_SCOPES, default="read")
    days = c.integer("expires_in_days", min_value=1, max_value=3650)
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=c.errors)
    if len(active_tokens(user)) >= MAX_TOKENS_PER_USER:
        raise ValidationFailed(_l("You have too many tokens; revoke one first."))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, scope=scope or "read", prefix=secret[:10],
                     token_hash=hash_secret(secret), expires_at=_now() + timedelta(days=days) if days else None)
    db.session.add(token)
    db.session.flush()
    _audit(user, "token", token, f"created API token {token.prefix}… ({token.scope})")
    return token, secret


def revoke_token(user, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (other people's tokens look missing)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        raise NotFound(_l("This token does not exist."))
    token.revoked_at = _now()
    db.session.flush()
    _audit(user, "token", token, f"revoked API token {token.prefix}…")
    return token


def authenticate(secret: str) -> tuple[User, ApiToken]:
    """The active user behind a bearer token, or AuthenticationFailed (one message for every failure)."""
    failure = AuthenticationFailed(_l("The access token is missing, invalid, expired or revoked."))
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        raise failure
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(secret)))
    if token is None or token.revoked_at is not None:
        raise failure
    now = _now()
    if token.expires_at is not None and _aware(token.expires_at) <= now:
        raise failure
    user = token.user
    if user is None or not user.is_active:
        raise failure
    last = _aware(token.last_used_at)
    if last is None or now - last > LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.flush()
    return user, token


def _audit(user, action: str, token: ApiToken, summary: str) -> None:
    """Token changes go to the audit log."""
    audit.record(db.session, actor_id=user.id, action=action, object_type="api_token", object_id=token.id,
                 summary=summary)

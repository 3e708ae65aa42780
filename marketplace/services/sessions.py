"""Server-side log-in sessions: each log-in gets a new random id (the session and the remember-me cookie carry
it); log-out, a password change and the account's session list revoke it. Only flushes."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from marketplace.extensions import db
from marketplace.models import User, UserSession
from marketplace.queries.sessions import aware, hash_token
from marketplace.services.errors import NotFound

TOUCH_INTERVAL = timedelta(minutes=1)  # "last seen" is written at most this often per session


def start(user: User, *, user_agent: str = "", remote_addr: str = "",
          now: datetime | None = None) -> tuple[UserSession, str]:
    """A new session for ``user``; returns it with its id (shown to nobody, kept only hashed)."""
    now = now or datetime.now(timezone.utc)
    token = secrets.token_urlsafe(32)
    row = UserSession(user=user, token_hash=hash_token(token), created_at=now, last_seen_at=now,
                      user_agent=(user_agent or "")[:200], remote_addr=(remote_addr or "")[:64])
    db.session.add(row)
    db.session.flush()
    return row, token


def needs_touch(row: UserSession, now: datetime | None = None) -> bool:
    now = now or datetime.now(timezone.utc)
    return aware(row.last_seen_at) <= now - TOUCH_INTERVAL


def touch(session_id: int, now: datetime | None = None) -> None:
    """Record that the session was just used (one UPDATE, no read)."""
    now = now or datetime.now(timezone.utc)
    db.session.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))


def revoke(user: User, session_id: int, now: datetime | None = None) -> UserSession:
    """End one of the user's own sessions (NotFound for another user's or an ended one)."""
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != user.id or row.revoked_at is not None:
        raise NotFound(_l("This session has already ended."))
    row.revoked_at = now or datetime.now(timezone.utc)
    db.session.flush()
    return row


def revoke_all(user: User, *, keep: int | None = None, now: datetime | None = None) -> int:
    """End every live session of ``user`` except ``keep`` (a session id); returns how many ended."""
    now = now or datetime.now(timezone.utc)
    query = update(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
    if keep is not None:
        query = query.where(UserSession.id != keep)
    ended = db.session.execute(query.values(revoked_at=now)).rowcount or 0
    db.session.flush()
    return ended

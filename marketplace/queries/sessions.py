"""Reads of server-side log-in sessions: the one a cookie names, and a user's list of signed-in browsers."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import UserSession


def hash_token(token: str) -> str:
    """Only this digest of a session id is stored: a copy of the table opens no session."""
    return hashlib.sha256((token or "").encode()).hexdigest()


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=timezone.utc)


def find_active(token: str, *, max_age: timedelta, now: datetime | None = None) -> UserSession | None:
    """The live session a cookie names: not revoked, younger than ``max_age``, of an active user; else None."""
    if not token or len(token) > 200:
        return None
    now = now or datetime.now(timezone.utc)
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == hash_token(token),
                                                      UserSession.revoked_at.is_(None)))
    if row is None or aware(row.created_at) <= now - max_age or not row.user.active:
        return None
    return row


def active_sessions(user, *, max_age: timedelta, now: datetime | None = None) -> list[UserSession]:
    """The user's live sessions ("where you are signed in"), most recently seen first."""
    now = now or datetime.now(timezone.utc)
    return list(db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None),
                                  UserSession.created_at > now - max_age)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())))

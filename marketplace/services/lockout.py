"""Account lock-out after repeated failed log-ins: when the lock ends, what the log-in page says about it,
and the notice to the account's owner (sent once per lock, when it starts).

The lock itself is counted in ``services.accounts.authenticate``: ``max_failures`` failures within
``lockout_minutes`` (since the last successful log-in) lock the address until the oldest of them is
``lockout_minutes`` old.
"""
from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import LazyString, format_datetime, format_time
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.links import path_for
from marketplace.models import LoginAttempt, User
from marketplace.services.errors import TooManyAttempts


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def locked_until(email: str, max_failures: int, lockout_minutes: int, now: datetime) -> datetime | None:
    """When the lock on ``email`` ends, or None when it is not locked at ``now``."""
    lockout = timedelta(minutes=lockout_minutes)
    floor = now - lockout
    last_ok = db.session.scalar(select(func.max(LoginAttempt.attempted_at))
                                .where(LoginAttempt.email == email, LoginAttempt.succeeded.is_(True)))
    if last_ok is not None:
        floor = max(floor, _aware(last_ok))
    times = list(db.session.scalars(
        select(LoginAttempt.attempted_at)
        .where(LoginAttempt.email == email, LoginAttempt.succeeded.is_(False),
               LoginAttempt.attempted_at > floor)
        .order_by(LoginAttempt.attempted_at.desc()).limit(max_failures)))
    if len(times) < max_failures:
        return None
    return _aware(times[-1]) + lockout


def _clock(moment: datetime, now: datetime) -> str:
    """The end of a lock in the reader's language and time zone: a time today, else date and time."""
    if moment - now < timedelta(hours=12):
        return format_time(moment, "short")
    return format_datetime(moment, "short")


def locked_error(until: datetime, now: datetime) -> TooManyAttempts:
    """The error the log-in page shows: until when the account is locked and for how many more minutes."""
    seconds = max(1, math.ceil((until - now).total_seconds()))
    how_long = _l("Too many failed attempts. This account is locked for %(m)d minutes.",
                  m=math.ceil(seconds / 60))
    until_when = _l("You can try again after %(time)s.", time=_clock(until, now))
    return TooManyAttempts(LazyString(lambda: f"{how_long} {until_when}"), retry_after_seconds=seconds)


def notify_owner(user: User, attempts: int, until: datetime, zone: str, remote_addr: str = "") -> list:
    """Tell the account's owner (inbox and e-mail) that it was locked; once per lock. Only flushes."""
    from marketplace.services import notifications
    local = until.astimezone(ZoneInfo(zone))
    params = {"attempts": attempts, "until": local.strftime("%Y-%m-%d %H:%M"), "zone": zone,
              "address": remote_addr or "-"}
    return notifications.notify([user.id], "security", "account_locked", params,
                                path_for("auth.login"),
                                dedupe_key=f"lockout:{user.id}:{until.astimezone(UTC):%Y%m%dT%H%M%S}")

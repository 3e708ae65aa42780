"""Users, their memberships of organisations, platform roles and login attempts."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.base import Base, TimestampMixin, utcnow
from marketplace.models.organizations import Organization

PLATFORM_ROLES = ("operator", "broker", "organiser", "admin")
MEMBERSHIP_ROLES = ("owner", "member")


class User(UserMixin, TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    display_name: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")
    roles: Mapped[list[UserRole]] = relationship(back_populates="user", cascade="all, delete-orphan")

    # The server-side session this request runs in (set by the log-in and by the session loader; not stored).
    session_token = None
    current_session_id = None

    def get_id(self) -> str:
        """What Flask-Login puts in the session and the remember-me cookie: the id of this log-in's server-side
        session (a new one at every log-in, revocable), never the user's own id."""
        if not self.session_token:
            raise RuntimeError("log users in through marketplace.security.log_in (a server-side session)")
        return self.session_token

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def role_names(self) -> set[str]:
        return {r.role for r in self.roles}

    def has_role(self, *names: str) -> bool:
        return bool(self.role_names & set(names)) or "admin" in self.role_names

    @property
    def org_ids(self) -> set[int]:
        return {m.organization_id for m in self.memberships}

    @property
    def organizations(self) -> list[Organization]:
        return [m.organization for m in self.memberships]

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class Membership(TimestampMixin, Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "organization_id"),
        CheckConstraint(f"role IN {MEMBERSHIP_ROLES}", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10), default="member")
    # The person's own contact details for introductions (else the organisation's are shown).
    contact_email: Mapped[str] = mapped_column(String(200), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")

    user: Mapped[User] = relationship(back_populates="memberships")
    organization: Mapped[Organization] = relationship(back_populates="memberships")


class UserRole(Base):
    __tablename__ = "user_roles"
    __table_args__ = (
        UniqueConstraint("user_id", "role"),
        CheckConstraint(f"role IN {PLATFORM_ROLES}", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship(back_populates="roles")


class LoginAttempt(Base):
    """One failed or successful login, kept to throttle guessing per account and per address."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), index=True)
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    failures_before: Mapped[int] = mapped_column(Integer, default=0)


class UserSession(Base):
    """One signed-in browser. The random id it carries (in the session and the remember-me cookie) is kept only
    as its SHA-256; log-out, a password change or the account's session list revoke it, and it ends at the
    latest ``REMEMBER_COOKIE_DURATION`` after log-in."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()

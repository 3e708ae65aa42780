"""Tiered confidentiality of offers and needs (issue 6, item 4): access requests to teaser details, NDA texts set
by the owner, NDA acceptances and the log of who read details of teaser and confidential items.

Items are referred to by ``item_type`` ("offer" / "need") and ``item_id``; the owner organisation is kept on
the request and the log rows so that "what concerns my organisation" is one indexed query.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.accounts import User
from marketplace.models.base import Base, utcnow
from marketplace.models.organizations import Organization

ITEM_TYPES = ("offer", "need", "challenge")
ACCESS_REQUEST_STATUSES = ("pending", "approved", "declined")
ACCESS_LOG_KINDS = ("view", "nda_accept")


class NdaTerms(Base):
    """The NDA text an owner requires before details of one item are shown (no row: no NDA)."""

    __tablename__ = "nda_terms"
    __table_args__ = (
        UniqueConstraint("item_type", "item_id"),
        CheckConstraint(f"item_type IN {ITEM_TYPES}", name="item_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_type: Mapped[str] = mapped_column(String(12))
    item_id: Mapped[int] = mapped_column(Integer)
    text_zh: Mapped[str] = mapped_column(Text, default="")
    text_en: Mapped[str] = mapped_column(Text, default="")
    text_hash: Mapped[str] = mapped_column(String(64))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AccessRequest(Base):
    """A member of another organisation asks to see the details of a teaser item."""

    __tablename__ = "access_requests"
    __table_args__ = (
        CheckConstraint(f"item_type IN {ITEM_TYPES}", name="item_type"),
        CheckConstraint(f"status IN {ACCESS_REQUEST_STATUSES}", name="status"),
        # one pending request per person and item, even when the form is sent twice at once
        Index("uq_access_requests_pending", "requester_id", "item_type", "item_id", unique=True,
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_type: Mapped[str] = mapped_column(String(12))
    item_id: Mapped[int] = mapped_column(Integer, index=True)
    owner_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"),
                                                       index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    requester_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    requester_organization: Mapped[Organization] = relationship(foreign_keys=[requester_organization_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class NdaAcceptance(Base):
    """A person accepted the NDA text of an item, as identified by the text's hash."""

    __tablename__ = "nda_acceptances"
    __table_args__ = (
        UniqueConstraint("user_id", "item_type", "item_id", "text_hash"),
        CheckConstraint(f"item_type IN {ITEM_TYPES}", name="item_type"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    item_type: Mapped[str] = mapped_column(String(12))
    item_id: Mapped[int] = mapped_column(Integer)
    text_hash: Mapped[str] = mapped_column(String(64))
    accepted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DetailAccessLog(Base):
    """One view of the details of a teaser or confidential item by someone outside the owner organisation,
    or one NDA acceptance; shown to the owner."""

    __tablename__ = "detail_access_logs"
    __table_args__ = (
        CheckConstraint(f"item_type IN {ITEM_TYPES}", name="item_type"),
        CheckConstraint(f"kind IN {ACCESS_LOG_KINDS}", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_type: Mapped[str] = mapped_column(String(12))
    item_id: Mapped[int] = mapped_column(Integer, index=True)
    owner_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"),
                                                       index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    organization: Mapped[Organization | None] = relationship(foreign_keys=[organization_id])

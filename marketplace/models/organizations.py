"""Organisations: hospitals, firms, research bodies, funders, agencies and the operator."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.base import Base, TimestampMixin, bilingual, utcnow
from marketplace.models.taxonomy import Field

if TYPE_CHECKING:
    from marketplace.models.accounts import Membership

ORG_KINDS = ("hospital", "firm", "lab", "university", "institute", "bank", "guarantee", "vc", "agency", "operator")
RESEARCH_KINDS = ("lab", "university", "institute")
FUNDER_KINDS = ("bank", "guarantee", "vc")
SIZE_CLASSES = ("micro", "small", "medium", "large")
GROWTH_STAGES = ("seed", "angel", "early", "growth", "late")
SUB_PARKS = (
    "haidian", "changping", "shunyi", "daxing_yizhuang", "fangshan", "tongzhou", "chaoyang", "dongcheng",
    "xicheng", "fengtai", "shijingshan", "mentougou", "pinggu", "huairou", "miyun", "yanqing",
)
INVITATION_ROLES = ("owner", "member")
VERIFICATION_STATUSES = ("pending", "approved", "rejected")

organization_fields = Table(
    "organization_fields",
    Base.metadata,
    Column("organization_id", ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("field_id", ForeignKey("fields.id", ondelete="CASCADE"), primary_key=True),
)


class Organization(TimestampMixin, Base):
    __tablename__ = "organizations"
    __table_args__ = (CheckConstraint(f"kind IN {ORG_KINDS}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Optimistic version: every save through an edit form or the API bumps it; a save that started from an
    # older version is refused instead of silently undoing the other one (services/versions.py).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    short_name: Mapped[str] = mapped_column(String(60), default="")
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    sub_park: Mapped[str | None] = mapped_column(String(30))
    size_class: Mapped[str | None] = mapped_column(String(10))
    registered_in_park: Mapped[bool] = mapped_column(Boolean, default=False)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_email: Mapped[str] = mapped_column(String(200), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    # Identity hidden behind the platform in introductions until the organisation accepts (EEN-style).
    mediated_only: Mapped[bool] = mapped_column(Boolean, default=False)
    # Development stage (funders' focus is compared with it) and the group the organisation declares it belongs
    # to (the parent organisation): matching never pairs organisations of one group.
    growth_stage: Mapped[str | None] = mapped_column(String(10))
    group_parent_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("organizations.id", ondelete="SET NULL"), index=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    memberships: Mapped[list[Membership]] = relationship(back_populates="organization", cascade="all, delete-orphan")
    fields: Mapped[list[Field]] = relationship(secondary=organization_fields, order_by="Field.sort_order")

    def name(self, locale: str = "zh") -> str:
        return bilingual(self, "name", locale)

    @property
    def is_funder(self) -> bool:
        return self.kind in FUNDER_KINDS

    @property
    def is_research(self) -> bool:
        return self.kind in RESEARCH_KINDS

    def __repr__(self) -> str:
        return f"<Organization {self.id} {self.name_zh}>"


class OrganizationInvitation(TimestampMixin, Base):
    """An owner asked someone, by e-mail address, to join the organisation. Only the hash of the link's token is
    kept; the link works once, until ``expires_at``, and not after it was revoked."""

    __tablename__ = "organization_invitations"
    __table_args__ = (CheckConstraint(f"role IN {INVITATION_ROLES}", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(200), index=True)
    role: Mapped[str] = mapped_column(String(10), default="member")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    organization: Mapped[Organization] = relationship()

    @property
    def is_open(self) -> bool:
        """Neither accepted nor revoked (expiry is checked against the clock by the service)."""
        return self.accepted_at is None and self.revoked_at is None


class OrganizationVerification(Base):
    """An owner's request to have the organisation verified: its credit code and business licence, and the
    operator's decision (with the reason for a rejection)."""

    __tablename__ = "organization_verifications"
    __table_args__ = (
        CheckConstraint(f"status IN {VERIFICATION_STATUSES}", name="status"),
        # one request waiting for an operator per organisation, even when an owner sends it twice at once
        Index("uq_organization_verifications_pending", "organization_id", unique=True,
              postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    uscc: Mapped[str] = mapped_column(String(18))
    licence_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, default="")

    organization: Mapped[Organization] = relationship()

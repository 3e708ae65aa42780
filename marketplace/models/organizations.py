"""Organisations: hospitals, firms, research bodies, funders, agencies and the operator."""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.base import Base, TimestampMixin, bilingual

if TYPE_CHECKING:
    from marketplace.models.accounts import Membership

ORG_KINDS = ("hospital", "firm", "lab", "university", "institute", "bank", "guarantee", "vc", "agency", "operator")
RESEARCH_KINDS = ("lab", "university", "institute")
FUNDER_KINDS = ("bank", "guarantee", "vc")
SIZE_CLASSES = ("micro", "small", "medium", "large")
SUB_PARKS = (
    "haidian", "changping", "shunyi", "daxing_yizhuang", "fangshan", "tongzhou", "chaoyang", "dongcheng",
    "xicheng", "fengtai", "shijingshan", "mentougou", "pinggu", "huairou", "miyun", "yanqing",
)


class Organization(TimestampMixin, Base):
    __tablename__ = "organizations"
    __table_args__ = (CheckConstraint(f"kind IN {ORG_KINDS}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
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
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    memberships: Mapped[list[Membership]] = relationship(back_populates="organization", cascade="all, delete-orphan")

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

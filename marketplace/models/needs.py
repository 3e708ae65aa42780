"""Needs posted by hospitals and firms."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import (JSON, Boolean, CheckConstraint, Column, Date, Float, ForeignKey, Index, Integer, Numeric, String,
                        Table, Text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.base import Base, TimestampMixin, bilingual
from marketplace.models.catalogue import VISIBILITIES
from marketplace.models.organizations import Organization
from marketplace.models.taxonomy import Field

NEED_KINDS = ("procurement", "technology_cooperation", "manufacturing_supply", "testing_lab", "financing", "space")
NEED_STATUSES = ("draft", "open", "matched", "closed")
URGENCIES = ("low", "normal", "high", "critical")

need_fields = Table(
    "need_fields",
    Base.metadata,
    Column("need_id", ForeignKey("needs.id", ondelete="CASCADE"), primary_key=True),
    Column("field_id", ForeignKey("fields.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_need_fields_field_id_need_id", "field_id", "need_id"),  # the needs of a field
)


class Need(TimestampMixin, Base):
    __tablename__ = "needs"
    __table_args__ = (
        CheckConstraint(f"kind IN {NEED_KINDS}", name="kind"),
        CheckConstraint(f"status IN {NEED_STATUSES}", name="status"),
        CheckConstraint(f"urgency IN {URGENCIES}", name="urgency"),
        CheckConstraint(f"visibility IN {VISIBILITIES}", name="visibility"),
        CheckConstraint("quantity IS NULL OR quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Optimistic version: every save through an edit form or the API bumps it; a save that started from an
    # older version is refused instead of silently undoing the other one (services/versions.py).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(24), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    visibility: Mapped[str] = mapped_column(String(12), default="public")
    title_zh: Mapped[str] = mapped_column(String(300), default="")
    title_en: Mapped[str] = mapped_column(String(300), default="")
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list] = mapped_column(JSON, default=list)
    quantity: Mapped[int | None] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(20), default="")
    budget_min_rmb: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    budget_max_rmb: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    deadline: Mapped[date | None] = mapped_column(Date)
    required_certifications: Mapped[list] = mapped_column(JSON, default=list)
    min_trl: Mapped[int | None] = mapped_column(Integer)
    # Procurement: keep offers without the required certification in the matches, flagged "not certified".
    allow_uncertified: Mapped[bool] = mapped_column(Boolean, default=False)
    # Financing: the term wanted, the highest acceptable rate and whether collateral or a guarantee is available.
    term_months: Mapped[int | None] = mapped_column(Integer)
    max_rate_pct: Mapped[float | None] = mapped_column(Float)
    collateral_available: Mapped[bool | None] = mapped_column(Boolean)
    urgency: Mapped[str] = mapped_column(String(10), default="normal")
    close_reason: Mapped[str] = mapped_column(Text, default="")
    import_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    organization: Mapped[Organization] = relationship()
    fields: Mapped[list[Field]] = relationship(secondary=need_fields)

    def title(self, locale: str = "zh") -> str:
        return bilingual(self, "title", locale)

    def description(self, locale: str = "zh") -> str:
        return bilingual(self, "description", locale)

    @property
    def is_confidential(self) -> bool:
        return self.visibility == "confidential"

    def __repr__(self) -> str:
        return f"<Need {self.id} {self.kind} {self.status}>"

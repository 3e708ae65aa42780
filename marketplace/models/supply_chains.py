"""Supply-chain coordination: a manufacturer lists the parts and inputs of a product with their suppliers (an
organisation on the platform, or a name off it) and each supplier's status; a blocked input can become an open
marketplace need that other suppliers and the sub-park see. The chain is seen only by the manufacturer's
members, its sub-park's staff and operators (``visibility.SUPPLY_CHAIN_OPEN``)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.base import Base, TimestampMixin, bilingual

# "import_delayed": the input is imported and its delivery is late (the ventilator maker's turbine fans).
SUPPLIER_STATUSES = ("blocked", "import_delayed", "running")
# Statuses that hold the product back; shown first and counted as trouble.
SUPPLIER_TROUBLE = ("blocked", "import_delayed")


class SupplyChain(TimestampMixin, Base):
    """One product of a manufacturer and the inputs it depends on."""

    __tablename__ = "supply_chains"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    # Copied from the manufacturer when the chain is created or changed: the sub-park whose staff see it.
    sub_park: Mapped[str | None] = mapped_column(String(30), index=True)
    product_zh: Mapped[str] = mapped_column(String(200))
    product_en: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    organization = relationship("Organization")
    inputs: Mapped[list[SupplyInput]] = relationship(back_populates="chain", cascade="all, delete-orphan",
                                                     order_by="SupplyInput.id")

    def product(self, locale: str = "zh") -> str:
        return bilingual(self, "product", locale)


class SupplyInput(TimestampMixin, Base):
    """A part or input of the product, its supplier and the supplier's status (with a note and its date)."""

    __tablename__ = "supply_chain_inputs"
    __table_args__ = (CheckConstraint(f"status IN {SUPPLIER_STATUSES}", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chain_id: Mapped[int] = mapped_column(ForeignKey("supply_chains.id", ondelete="CASCADE"), index=True)
    part_name: Mapped[str] = mapped_column(String(200))
    supplier_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"),
                                                        index=True)
    supplier_name: Mapped[str] = mapped_column(String(200), default="")  # a supplier not on the platform
    status: Mapped[str] = mapped_column(String(16), default="running", index=True)
    status_note: Mapped[str] = mapped_column(Text, default="")
    status_on: Mapped[date | None] = mapped_column(Date)
    # The open need this input became (one action from the chain page).
    need_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    chain: Mapped[SupplyChain] = relationship(back_populates="inputs")
    supplier = relationship("Organization", foreign_keys=[supplier_org_id])

    def supplier_label(self, locale: str = "zh") -> str:
        """The supplier's name: its organisation on the platform, else the name typed in."""
        return self.supplier.name(locale) if self.supplier is not None else self.supplier_name

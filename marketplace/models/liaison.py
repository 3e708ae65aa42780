"""Enterprise liaison (measure 10 of the 2020 notice): firms report difficulties or what they did; the staff of
their sub-park answer within a deadline, route them to an office, turn them into a marketplace need, or close
them with a result; overdue reports escalate to operators."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.base import Base, TimestampMixin, utcnow

REPORT_TOPICS = ("materials", "supply_chain", "logistics", "staff_return", "financing", "legal", "space",
                 "measures_taken")
REPORT_STATUSES = ("open", "answered", "routed", "need_posted", "closed")
REPORT_OPEN = ("open", "routed")


class SubParkStaff(Base):
    """A user who serves the firms of a sub-park (measure 9: each sub-park knows its firms' situation)."""

    __tablename__ = "sub_park_staff"
    __table_args__ = (UniqueConstraint("user_id", "sub_park"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sub_park: Mapped[str] = mapped_column(String(30), index=True)


class LiaisonReport(TimestampMixin, Base):
    """A firm's difficulty, need for help, or the measures it took, waiting for its sub-park's answer."""

    __tablename__ = "liaison_reports"
    __table_args__ = (
        CheckConstraint(f"topic IN {REPORT_TOPICS}", name="topic"),
        CheckConstraint(f"status IN {REPORT_STATUSES}", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sub_park: Mapped[str | None] = mapped_column(String(30), index=True)
    topic: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    respond_by: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answer: Mapped[str] = mapped_column(Text, default="")
    routed_office_id: Mapped[int | None] = mapped_column(ForeignKey("policy_offices.id", ondelete="SET NULL"))
    need_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id", ondelete="SET NULL"))
    result: Mapped[str] = mapped_column(Text, default="")
    # A supply-chain report may name the manufacturer's chain it is about (its staff then see the inputs).
    supply_chain_id: Mapped[int | None] = mapped_column(ForeignKey("supply_chains.id", ondelete="SET NULL"),
                                                        index=True)

    organization = relationship("Organization")
    routed_office = relationship("PolicyOffice")
    supply_chain = relationship("SupplyChain")

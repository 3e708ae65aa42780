"""Policy desk: the park's support measures, the offices that run them, firms' answers and their filings.

A measure's conditions are data (a list of checks on facts about a firm), so operators add and change
measures without code; every change keeps the previous text as a revision. A filing (备案) claims one or
more measures for a project; each claimed measure becomes a part reviewed by the office responsible.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (JSON, CheckConstraint, Column, Date, DateTime, ForeignKey, Integer, Numeric, String, Table,
                        Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.base import Base, TimestampMixin, bilingual, utcnow

MEASURE_STATUSES = ("active", "archived")
FILING_STATUSES = ("draft", "submitted")
PART_STATUSES = ("received", "in_review", "info_requested", "supported", "declined")
PART_CLOSED = ("supported", "declined")

measure_offices = Table(
    "policy_measure_offices",
    Base.metadata,
    Column("measure_id", ForeignKey("policy_measures.id", ondelete="CASCADE"), primary_key=True),
    Column("office_id", ForeignKey("policy_offices.id", ondelete="CASCADE"), primary_key=True),
)


class PolicyOffice(Base):
    """A division of the park's administration that answers for some measures (产业处, 金融处, …)."""

    __tablename__ = "policy_offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(160), default="")
    contacts: Mapped[str] = mapped_column(Text, default="")

    staff: Mapped[list[PolicyOfficeStaff]] = relationship(back_populates="office", cascade="all, delete-orphan")

    def name(self, locale: str = "zh") -> str:
        return bilingual(self, "name", locale)


class PolicyOfficeStaff(Base):
    """A user who reviews filings for an office."""

    __tablename__ = "policy_office_staff"
    __table_args__ = (UniqueConstraint("office_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("policy_offices.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    office: Mapped[PolicyOffice] = relationship(back_populates="staff")


class PolicyMeasure(TimestampMixin, Base):
    """One support measure, numbered as in its source document (第5条)."""

    __tablename__ = "policy_measures"
    __table_args__ = (
        UniqueConstraint("source_code", "number"),
        CheckConstraint(f"status IN {MEASURE_STATUSES}", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_code: Mapped[str] = mapped_column(String(40), index=True)
    source_title_zh: Mapped[str] = mapped_column(String(300), default="")
    source_title_en: Mapped[str] = mapped_column(String(300), default="")
    number: Mapped[int] = mapped_column(Integer)
    title_zh: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str] = mapped_column(String(300), default="")
    beneficiaries_zh: Mapped[str] = mapped_column(Text, default="")
    beneficiaries_en: Mapped[str] = mapped_column(Text, default="")
    benefit_zh: Mapped[str] = mapped_column(Text, default="")
    benefit_en: Mapped[str] = mapped_column(Text, default="")
    max_amount_rmb: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    source_text: Mapped[str] = mapped_column(Text, default="")
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    # [{"fact": "registered_in_park", "op": "is", "value": true}, ...]: see services/policy/eligibility.py
    conditions: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default="active", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    offices: Mapped[list[PolicyOffice]] = relationship(secondary=measure_offices, order_by="PolicyOffice.id")
    revisions: Mapped[list[PolicyMeasureRevision]] = relationship(
        back_populates="measure", cascade="all, delete-orphan", order_by="PolicyMeasureRevision.version.desc()")

    def title(self, locale: str = "zh") -> str:
        return bilingual(self, "title", locale)


class PolicyMeasureRevision(Base):
    """The measure as it read before a change, who changed it and when."""

    __tablename__ = "policy_measure_revisions"
    __table_args__ = (UniqueConstraint("measure_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("policy_measures.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    measure: Mapped[PolicyMeasure] = relationship(back_populates="revisions")


class PolicyAnswer(Base):
    """A firm's answer to one question of the eligibility questionnaire (R&D spending declared, …)."""

    __tablename__ = "policy_answers"
    __table_args__ = (UniqueConstraint("organization_id", "question"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(40))
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class PolicyFiling(TimestampMixin, Base):
    """A project filed against measures; its title follows the notice: ``20200206 XXX公司（第2、4、7条）``."""

    __tablename__ = "policy_filings"
    __table_args__ = (CheckConstraint(f"status IN {FILING_STATUSES}", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300))
    project_name: Mapped[str] = mapped_column(String(300))
    direction: Mapped[str] = mapped_column(String(40), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    filed_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="submitted", index=True)

    parts: Mapped[list[PolicyFilingPart]] = relationship(back_populates="filing", cascade="all, delete-orphan",
                                                         order_by="PolicyFilingPart.measure_number")


class PolicyFilingPart(TimestampMixin, Base):
    """One claimed measure of a filing, reviewed by the measure's office."""

    __tablename__ = "policy_filing_parts"
    __table_args__ = (
        UniqueConstraint("filing_id", "measure_id"),
        CheckConstraint(f"status IN {PART_STATUSES}", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    filing_id: Mapped[int] = mapped_column(ForeignKey("policy_filings.id", ondelete="CASCADE"), index=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("policy_measures.id", ondelete="RESTRICT"), index=True)
    measure_number: Mapped[int] = mapped_column(Integer)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("policy_offices.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="received", index=True)
    amount_rmb: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    filing: Mapped[PolicyFiling] = relationship(back_populates="parts")
    measure: Mapped[PolicyMeasure] = relationship()
    office: Mapped[PolicyOffice | None] = relationship()


PROGRAMME_KINDS = ("loan", "investment", "grant")
ENTRY_SOURCES = ("operator", "filing")


class FundingProgramme(TimestampMixin, Base):
    """A funding programme with a budget (the 20-billion epidemic loan programme, a subsidy budget, …); its
    public figures are counted from its entries, never typed in."""

    __tablename__ = "funding_programmes"
    __table_args__ = (CheckConstraint(f"kind IN {PROGRAMME_KINDS}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    budget_rmb: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    started_on: Mapped[date | None] = mapped_column(Date)
    # Supported parts of filings under this measure are recorded as entries automatically.
    measure_id: Mapped[int | None] = mapped_column(ForeignKey("policy_measures.id", ondelete="SET NULL"), index=True)

    def name(self, locale: str = "zh") -> str:
        return bilingual(self, "name", locale)


class ProgrammeEntry(Base):
    """One loan, investment or grant made under a programme."""

    __tablename__ = "programme_entries"
    __table_args__ = (CheckConstraint(f"source IN {ENTRY_SOURCES}", name="source"),
                      CheckConstraint("amount_rmb > 0", name="amount_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("funding_programmes.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"),
                                                        index=True)
    amount_rmb: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    granted_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(10), default="operator")
    filing_part_id: Mapped[int | None] = mapped_column(ForeignKey("policy_filing_parts.id", ondelete="SET NULL"),
                                                       unique=True)
    note: Mapped[str] = mapped_column(String(300), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

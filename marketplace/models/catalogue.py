"""Offers (technologies, products, services, patents, financial products) and publication batches."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (JSON, Boolean, CheckConstraint, Column, Date, DateTime, Float, ForeignKey, Index, Integer,
                        Numeric, String, Table, Text, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.base import Base, TimestampMixin, bilingual, utcnow
from marketplace.models.organizations import Organization
from marketplace.models.taxonomy import Field

OFFER_KINDS = ("technology", "product", "service", "patent", "financial")
OFFER_STATUSES = ("draft", "submitted", "changes_requested", "approved", "published", "rejected", "archived")
REGULATORY_STATUSES = ("nmpa", "ce", "fda", "emergency", "none")
PARTNERSHIP_MODES = ("sale", "licence", "transfer", "co_development", "investment")
VISIBILITIES = ("public", "teaser", "confidential")
BATCH_KINDS = ("regular", "high_value")

offer_fields = Table(
    "offer_fields",
    Base.metadata,
    Column("offer_id", ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True),
    Column("field_id", ForeignKey("fields.id", ondelete="CASCADE"), primary_key=True),
    # The offers of a field (related offers, filters by field): the primary key leads with the offer.
    Index("ix_offer_fields_field_id_offer_id", "field_id", "offer_id"),
)


class Batch(TimestampMixin, Base):
    """A numbered publication batch ("Batch 3: 126 anti-epidemic technologies, products and services")."""

    __tablename__ = "batches"
    __table_args__ = (CheckConstraint(f"kind IN {BATCH_KINDS}", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    kind: Mapped[str] = mapped_column(String(12), default="regular")
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    note_zh: Mapped[str] = mapped_column(Text, default="")
    note_en: Mapped[str] = mapped_column(Text, default="")
    published_on: Mapped[date | None] = mapped_column(Date)
    released_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    offers: Mapped[list[Offer]] = relationship(back_populates="batch")

    def title(self, locale: str = "zh") -> str:
        return bilingual(self, "title", locale)


class Offer(TimestampMixin, Base):
    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint(f"kind IN {OFFER_KINDS}", name="kind"),
        CheckConstraint(f"status IN {OFFER_STATUSES}", name="status"),
        CheckConstraint(f"visibility IN {VISIBILITIES}", name="visibility"),
        CheckConstraint("trl IS NULL OR (trl BETWEEN 1 AND 9)", name="trl_range"),
        # An offer page's related offers: published ones of a kind, newest first, read until four fit.
        Index("ix_offers_status_kind_published_at", "status", "kind", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Optimistic version: every save through an edit form or the API bumps it; a save that started from an
    # older version is refused instead of silently undoing the other one (services/versions.py).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(12), index=True)
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    visibility: Mapped[str] = mapped_column(String(12), default="public")
    title_zh: Mapped[str] = mapped_column(String(300), default="")
    title_en: Mapped[str] = mapped_column(String(300), default="")
    summary_zh: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    problem_zh: Mapped[str] = mapped_column(Text, default="")
    problem_en: Mapped[str] = mapped_column(Text, default="")
    advantage_zh: Mapped[str] = mapped_column(Text, default="")
    advantage_en: Mapped[str] = mapped_column(Text, default="")
    scenarios_zh: Mapped[str] = mapped_column(Text, default="")
    scenarios_en: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list] = mapped_column(JSON, default=list)
    trl: Mapped[int | None] = mapped_column(Integer)
    regulatory_statuses: Mapped[list] = mapped_column(JSON, default=list)
    partnership_modes: Mapped[list] = mapped_column(JSON, default=list)
    ip_status: Mapped[str] = mapped_column(String(200), default="")
    price_terms: Mapped[str] = mapped_column(String(300), default="")
    price_rmb: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    capacity: Mapped[str] = mapped_column(String(300), default="")
    lead_time_days: Mapped[int | None] = mapped_column(Integer)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("batches.id", ondelete="SET NULL"), index=True)
    review_note: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    import_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    organization: Mapped[Organization] = relationship()
    batch: Mapped[Batch | None] = relationship(back_populates="offers")
    fields: Mapped[list[Field]] = relationship(secondary=offer_fields)
    patent: Mapped[PatentDetail | None] = relationship(back_populates="offer", uselist=False,
                                                      cascade="all, delete-orphan")
    financial: Mapped[FinancialDetail | None] = relationship(back_populates="offer", uselist=False,
                                                            cascade="all, delete-orphan")

    def title(self, locale: str = "zh") -> str:
        return bilingual(self, "title", locale)

    def summary(self, locale: str = "zh") -> str:
        return bilingual(self, "summary", locale)

    def text(self, stem: str, locale: str = "zh") -> str:
        return bilingual(self, stem, locale)

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    def __repr__(self) -> str:
        return f"<Offer {self.id} {self.kind} {self.status}>"


REVIEW_DECISIONS = ("approve", "reject", "request_changes")


class ReviewDecision(Base):
    """One verification decision by an operator; the submitter sees the reason, operators the history."""

    __tablename__ = "review_decisions"
    __table_args__ = (CheckConstraint(f"decision IN {REVIEW_DECISIONS}", name="decision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), index=True)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decision: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)

    offer: Mapped[Offer] = relationship()


PATENT_LEGAL_STATUSES = ("pending", "granted", "lapsed", "invalid", "expired")
CURATION_STAGES = ("screened", "shortlisted", "high_value")
TRANSFER_MODES = ("assignment", "exclusive_licence", "non_exclusive_licence", "licence", "pledge", "equity")


class PatentDetail(Base):
    __tablename__ = "patent_details"
    __table_args__ = (
        CheckConstraint(f"legal_status IN {PATENT_LEGAL_STATUSES}", name="legal_status"),
        CheckConstraint(f"curation_stage IN {CURATION_STAGES}", name="curation_stage"),
        # The funnel pages one stage at a time, best score first: the index serves the filter, the order and
        # the paging without sorting the stage's 100,000+ patents.
        Index("ix_patent_details_stage_score", "curation_stage", "value_score", "offer_id"),
        # The same order as the funnel asks for it, unscored last: PostgreSQL reads the index above backwards as
        # "scores descending, NULLs first" and so sorted the whole stage for every page (SQLite has NULLs last in
        # a descending read already, and no NULLS LAST in an index).
        Index("ix_patent_details_stage_score_desc", "curation_stage", text("value_score DESC NULLS LAST"),
              text("offer_id DESC")).ddl_if(dialect="postgresql"),
    )

    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True)
    application_number: Mapped[str] = mapped_column(String(20), unique=True)
    patent_type: Mapped[str] = mapped_column(String(20), default="invention")
    ipc_classes: Mapped[list] = mapped_column(JSON, default=list)
    applicants: Mapped[list] = mapped_column(JSON, default=list)
    inventors: Mapped[list] = mapped_column(JSON, default=list)
    filing_date: Mapped[date | None] = mapped_column(Date)
    grant_date: Mapped[date | None] = mapped_column(Date)
    legal_status: Mapped[str] = mapped_column(String(12), default="pending")
    claims_count: Mapped[int] = mapped_column(Integer, default=0)
    citations: Mapped[int] = mapped_column(Integer, default=0)
    family_size: Mapped[int] = mapped_column(Integer, default=1)
    transfer_willingness: Mapped[int] = mapped_column(Integer, default=3)
    market_prospect: Mapped[int] = mapped_column(Integer, default=3)
    transfer_modes: Mapped[list] = mapped_column(JSON, default=list)
    value_score: Mapped[float | None] = mapped_column(Float)
    curation_stage: Mapped[str] = mapped_column(String(12), default="screened", index=True)
    # The stage this patent is counted under in patent_stage_tallies (NULL: outside the funnel); kept by
    # services/funnel_counts.py in the same transaction as the change, never set by hand.
    counted_stage: Mapped[str | None] = mapped_column(String(12))

    offer: Mapped[Offer] = relationship(back_populates="patent")


class PatentStageTally(Base):
    """Signed numbers of patents per funnel stage; a stage's count is their sum (``services/funnel_counts``).

    Each transaction that moves patents adds or updates rows of its own, so concurrent writers never wait on one
    counter row; the rows are folded together from time to time."""
    __tablename__ = "patent_stage_tallies"

    id: Mapped[int] = mapped_column(primary_key=True)
    stage: Mapped[str] = mapped_column(String(12))
    patents: Mapped[int] = mapped_column(Integer, default=0)


FINANCIAL_PRODUCT_TYPES = ("loan", "guarantee", "leasing", "investment")


class FinancialDetail(Base):
    __tablename__ = "financial_details"
    __table_args__ = (CheckConstraint(f"product_type IN {FINANCIAL_PRODUCT_TYPES}", name="product_type"),)

    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), primary_key=True)
    product_type: Mapped[str] = mapped_column(String(12), default="loan")
    amount_min_rmb: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    amount_max_rmb: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    rate_min_pct: Mapped[float | None] = mapped_column(Float)
    rate_max_pct: Mapped[float | None] = mapped_column(Float)
    term_months_min: Mapped[int | None] = mapped_column(Integer)
    term_months_max: Mapped[int | None] = mapped_column(Integer)
    guarantee: Mapped[str] = mapped_column(String(200), default="")
    guarantee_fee_pct: Mapped[float | None] = mapped_column(Float)
    eligibility_zh: Mapped[str] = mapped_column(Text, default="")
    eligibility_en: Mapped[str] = mapped_column(Text, default="")
    invest_fields: Mapped[list] = mapped_column(JSON, default=list)
    invest_stages: Mapped[list] = mapped_column(JSON, default=list)
    ticket_min_rmb: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    ticket_max_rmb: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    # Structured eligibility, compared with the firm by the matching (the free text above stays for people).
    collateral_required: Mapped[bool] = mapped_column(Boolean, default=False)
    park_only: Mapped[bool] = mapped_column(Boolean, default=False)
    eligible_sizes: Mapped[list] = mapped_column(JSON, default=list)
    eligible_fields: Mapped[list] = mapped_column(JSON, default=list)
    eligible_stages: Mapped[list] = mapped_column(JSON, default=list)

    offer: Mapped[Offer] = relationship(back_populates="financial")

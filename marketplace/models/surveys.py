"""Surveys and monitoring (part 三 of the 2020 notice): operators ask the park's firms short questions (single
choice, number, text), to an audience chosen by sub-park, kind and size; each organisation answers once and may
change its answers until the survey closes. Number questions may carry an indicator code (e.g. the share of staff
back at work), so the same indicator is followed over successive surveys."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.models.base import Base, TimestampMixin, bilingual, utcnow

SURVEY_STATUSES = ("draft", "open", "closed")
QUESTION_KINDS = ("single", "number", "text")


class Survey(TimestampMixin, Base):
    """A short survey of firms; empty audience lists mean "any"."""

    __tablename__ = "surveys"
    __table_args__ = (CheckConstraint(f"status IN {SURVEY_STATUSES}", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200), default="")
    description_zh: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(8), default="draft", index=True)
    audience_sub_parks: Mapped[list] = mapped_column(JSON, default=list)
    audience_kinds: Mapped[list] = mapped_column(JSON, default=list)
    audience_sizes: Mapped[list] = mapped_column(JSON, default=list)
    closes_on: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    questions: Mapped[list[SurveyQuestion]] = relationship(back_populates="survey", cascade="all, delete-orphan",
                                                           order_by="SurveyQuestion.position")

    def title(self, locale: str = "zh") -> str:
        return bilingual(self, "title", locale)


class SurveyQuestion(Base):
    """One question; ``choices`` for single-choice questions, ``indicator`` for numbers followed over time."""

    __tablename__ = "survey_questions"
    __table_args__ = (CheckConstraint(f"kind IN {QUESTION_KINDS}", name="kind"),
                      UniqueConstraint("survey_id", "position"))

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    prompt_zh: Mapped[str] = mapped_column(String(300))
    prompt_en: Mapped[str] = mapped_column(String(300), default="")
    choices: Mapped[list] = mapped_column(JSON, default=list)
    indicator: Mapped[str] = mapped_column(String(40), default="", index=True)

    survey: Mapped[Survey] = relationship(back_populates="questions")

    def prompt(self, locale: str = "zh") -> str:
        return bilingual(self, "prompt", locale)


class SurveyResponse(Base):
    """An organisation's answers to a survey (``{question id: value}``), changed in place until it closes."""

    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("survey_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    organization = relationship("Organization")

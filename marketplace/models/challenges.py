"""Open challenges (揭榜挂帅, issue 17): a problem published with an award, questions and public clarifications,
solvers who follow it, invitations, proposals (alone or as a consortium), the evaluation panel with its conflict
declarations and scores, the award and the delivery milestones.

Part A (publishing, questions, proposals, API) writes: ``Challenge``, ``ChallengeCriterion``,
``ChallengeQuestion``, ``ChallengeClarification``, ``ChallengeSolver``, ``ChallengeProposal`` (with
``challenge_proposal_members`` and ``challenge_proposal_files``).
Part B (reverse matching, evaluation, award, reports) writes: ``ChallengeInvitation``, ``ChallengePanelMember``,
``ChallengeConflict``, ``ChallengeScore``, ``ChallengeAward``, ``ChallengeMilestone``, and the proposal statuses
``shortlisted`` / ``awarded`` / ``not_selected`` with ``ChallengeProposal.feedback``.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from marketplace.models.accounts import User
from marketplace.models.base import Base, TimestampMixin, bilingual, utcnow
from marketplace.models.organizations import Organization
from marketplace.models.taxonomy import Field

# draft -> submitted (waiting for an operator) -> published -> closed (deadline passed) -> in_evaluation
# -> awarded -> delivered; an operator may send a submitted challenge back (to edit and submit again) or reject
# it; the challenger may withdraw it before the award.
CHALLENGE_STATUSES = ("draft", "submitted", "sent_back", "rejected", "published", "closed", "in_evaluation",
                      "awarded", "delivered", "withdrawn")
PROPOSAL_STATUSES = ("draft", "submitted", "withdrawn", "shortlisted", "awarded", "not_selected")
ANSWER_VISIBILITIES = ("public", "private")
# How a person came to follow a challenge (all of them are told of public clarifications).
SOLVER_SOURCES = ("interest", "question", "proposal", "invitation")
PANEL_ROLES = ("chair", "evaluator", "expert")
MILESTONE_STATUSES = ("due", "delivered", "accepted")
SCORE_MIN, SCORE_MAX = 0, 10

challenge_fields = Table(
    "challenge_fields",
    Base.metadata,
    Column("challenge_id", ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True),
    Column("field_id", ForeignKey("fields.id", ondelete="CASCADE"), primary_key=True),
)

# The other organisations of a consortium proposal (the lead is ``ChallengeProposal.lead_organization_id``).
challenge_proposal_members = Table(
    "challenge_proposal_members",
    Base.metadata,
    Column("proposal_id", ForeignKey("challenge_proposals.id", ondelete="CASCADE"), primary_key=True),
    Column("organization_id", ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
)

# Files attached to a proposal, stored under the upload rules (purpose "attachment", owned by the lead).
challenge_proposal_files = Table(
    "challenge_proposal_files",
    Base.metadata,
    Column("proposal_id", ForeignKey("challenge_proposals.id", ondelete="CASCADE"), primary_key=True),
    Column("file_id", ForeignKey("stored_files.id", ondelete="CASCADE"), primary_key=True),
)


class Challenge(TimestampMixin, Base):
    """A problem a hospital, firm, operator or sub-park publishes for any capable team to take on."""

    __tablename__ = "challenges"
    __table_args__ = (
        CheckConstraint(f"status IN {CHALLENGE_STATUSES}", name="status"),
        CheckConstraint("award_min_rmb IS NULL OR award_min_rmb >= 0", name="award_min_not_negative"),
        CheckConstraint("award_max_rmb IS NULL OR award_min_rmb IS NULL OR award_max_rmb >= award_min_rmb",
                        name="award_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Optimistic version (services/versions.py): a save that started from an older version is refused.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The need this challenge was published from, if any.
    need_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id", ondelete="SET NULL"), index=True)
    # Set when sub-park staff publish for their sub-park.
    sub_park: Mapped[str | None] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    title_zh: Mapped[str] = mapped_column(String(300), default="")
    title_en: Mapped[str] = mapped_column(String(300), default="")
    summary_zh: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    # The problem, the technical requirements and targets, IP and licensing terms: public once published.
    problem_zh: Mapped[str] = mapped_column(Text, default="")
    problem_en: Mapped[str] = mapped_column(Text, default="")
    requirements_zh: Mapped[str] = mapped_column(Text, default="")
    requirements_en: Mapped[str] = mapped_column(Text, default="")
    ip_terms_zh: Mapped[str] = mapped_column(Text, default="")
    ip_terms_en: Mapped[str] = mapped_column(Text, default="")
    # The confidential part: shown only to people who accepted the challenge's NDA (confidentiality tiers).
    confidential_zh: Mapped[str] = mapped_column(Text, default="")
    confidential_en: Mapped[str] = mapped_column(Text, default="")
    award_min_rmb: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    award_max_rmb: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    award_note: Mapped[str] = mapped_column(Text, default="")
    # Planned milestones as the challenger describes them: [{"title": ..., "months": n}, ...]
    milestone_plan: Mapped[list] = mapped_column(JSON, default=list)
    # Organisation kinds that may lead a proposal (empty: labs, universities, institutes and firms).
    eligible_kinds: Mapped[list] = mapped_column(JSON, default=list)
    consortium_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    # Submission deadline, an aware instant, and the time zone it was set in (shown in it, as events do).
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # Number of the latest public clarification (0: none yet).
    clarification_number: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_reason: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    evaluation_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    awarded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    organization: Mapped[Organization] = relationship()
    fields: Mapped[list[Field]] = relationship(secondary=challenge_fields, order_by="Field.sort_order")
    criteria: Mapped[list[ChallengeCriterion]] = relationship(
        back_populates="challenge", cascade="all, delete-orphan", order_by="ChallengeCriterion.position")
    panel_members: Mapped[list[ChallengePanelMember]] = relationship(viewonly=True)

    @validates("deadline")
    def _deadline_in_utc(self, _key, value: datetime | None) -> datetime | None:
        """Store the instant in UTC: SQLite keeps no offset, so 23:59 in Beijing must not come back as 23:59 UTC.
        A naive value is taken as UTC, as everywhere in the application."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def title(self, locale: str = "zh") -> str:
        return bilingual(self, "title", locale)

    def summary(self, locale: str = "zh") -> str:
        return bilingual(self, "summary", locale)

    def problem(self, locale: str = "zh") -> str:
        return bilingual(self, "problem", locale)

    def requirements(self, locale: str = "zh") -> str:
        return bilingual(self, "requirements", locale)

    def ip_terms(self, locale: str = "zh") -> str:
        return bilingual(self, "ip_terms", locale)

    def confidential(self, locale: str = "zh") -> str:
        return bilingual(self, "confidential", locale)

    @property
    def has_confidential_part(self) -> bool:
        return bool(self.confidential_zh or self.confidential_en)

    @property
    def visibility(self) -> str:
        """The confidentiality tier: "teaser" (public parts for all, the confidential part after the NDA) when
        there is a confidential part, else "public"."""
        return "teaser" if self.has_confidential_part else "public"

    def __repr__(self) -> str:
        return f"<Challenge {self.id} {self.status}>"


class ChallengeCriterion(Base):
    """One evaluation criterion of a challenge with its weight (weights are relative, shown as shares)."""

    __tablename__ = "challenge_criteria"
    __table_args__ = (CheckConstraint("weight > 0 AND weight <= 100", name="weight_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name_zh: Mapped[str] = mapped_column(String(200), default="")
    name_en: Mapped[str] = mapped_column(String(200), default="")
    weight: Mapped[int] = mapped_column(Integer, default=1)

    challenge: Mapped[Challenge] = relationship(back_populates="criteria")

    def name(self, locale: str = "zh") -> str:
        return bilingual(self, "name", locale)


class ChallengeMilestone(TimestampMixin, Base):
    """A delivery milestone of an awarded proposal: due, then delivered by the solver, then accepted."""

    __tablename__ = "challenge_milestones"
    __table_args__ = (CheckConstraint(f"status IN {MILESTONE_STATUSES}", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    award_id: Mapped[int | None] = mapped_column(ForeignKey("challenge_awards.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(300), default="")
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="due", index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(Text, default="")


class ChallengeClarification(Base):
    """A numbered public clarification of a challenge (usually a question answered publicly)."""

    __tablename__ = "challenge_clarifications"
    __table_args__ = (UniqueConstraint("challenge_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("challenge_questions.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text, default="")
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChallengeQuestion(Base):
    """A prospective solver's question and the challenger's answer, public (a clarification) or private."""

    __tablename__ = "challenge_questions"
    __table_args__ = (
        CheckConstraint(f"answer_visibility IS NULL OR answer_visibility IN {ANSWER_VISIBILITIES}",
                        name="answer_visibility"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    asker_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    asker_organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text, default="")
    answer_visibility: Mapped[str | None] = mapped_column(String(8))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)

    asker: Mapped[User | None] = relationship(foreign_keys=[asker_id])

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None


class ChallengeSolver(Base):
    """A person who follows a challenge as a prospective solver: told of every public clarification."""

    __tablename__ = "challenge_solvers"
    __table_args__ = (
        UniqueConstraint("challenge_id", "user_id"),
        CheckConstraint(f"source IN {SOLVER_SOURCES}", name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(12), default="interest")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChallengeInvitation(Base):
    """The challenger or a broker invites an organisation, ranked by reverse matching, to take the challenge."""

    __tablename__ = "challenge_invitations"
    __table_args__ = (UniqueConstraint("challenge_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    offer_ids: Mapped[list] = mapped_column(JSON, default=list)
    patent_ids: Mapped[list] = mapped_column(JSON, default=list)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    organization: Mapped[Organization] = relationship()


class ChallengeProposal(TimestampMixin, Base):
    """A solution proposed by one lead organisation (alone or with consortium members) to one challenge."""

    __tablename__ = "challenge_proposals"
    __table_args__ = (
        # one proposal per lead organisation and challenge, even when two drafts are started at once
        UniqueConstraint("challenge_id", "lead_organization_id"),
        CheckConstraint(f"status IN {PROPOSAL_STATUSES}", name="status"),
        CheckConstraint("budget_rmb IS NULL OR budget_rmb >= 0", name="budget_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    lead_organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"),
                                                      index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    approach: Mapped[str] = mapped_column(Text, default="")
    team: Mapped[str] = mapped_column(Text, default="")
    # The solver's milestones: [{"title": ..., "months": n}, ...]
    milestones: Mapped[list] = mapped_column(JSON, default=list)
    budget_rmb: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    # Written by the challenger to unsuccessful (or shortlisted) solvers.
    feedback: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    challenge: Mapped[Challenge] = relationship()
    lead_organization: Mapped[Organization] = relationship()
    members: Mapped[list[Organization]] = relationship(secondary=challenge_proposal_members)

    def __repr__(self) -> str:
        return f"<ChallengeProposal {self.id} {self.status}>"


class ChallengePanelMember(Base):
    """A person on a challenge's evaluation panel (the challenger's staff or a park expert)."""

    __tablename__ = "challenge_panel_members"
    __table_args__ = (
        UniqueConstraint("challenge_id", "user_id"),
        CheckConstraint(f"role IN {PANEL_ROLES}", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10), default="evaluator")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ChallengeConflict(Base):
    """A panel member's declaration, per proposal, of a conflict of interest (a conflict forbids scoring it)."""

    __tablename__ = "challenge_conflicts"
    __table_args__ = (UniqueConstraint("panel_member_id", "proposal_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_member_id: Mapped[int] = mapped_column(ForeignKey("challenge_panel_members.id", ondelete="CASCADE"),
                                                 index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("challenge_proposals.id", ondelete="CASCADE"), index=True)
    has_conflict: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ChallengeScore(TimestampMixin, Base):
    """One panel member's score (0-10) of one proposal against one criterion, with a comment."""

    __tablename__ = "challenge_scores"
    __table_args__ = (
        UniqueConstraint("panel_member_id", "proposal_id", "criterion_id"),
        CheckConstraint(f"score >= {SCORE_MIN} AND score <= {SCORE_MAX}", name="score_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    panel_member_id: Mapped[int] = mapped_column(ForeignKey("challenge_panel_members.id", ondelete="CASCADE"),
                                                 index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("challenge_proposals.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("challenge_criteria.id", ondelete="CASCADE"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")


class ChallengeAward(Base):
    """A proposal awarded ("揭榜"): it opens an introduction in the deal pipeline and milestone tracking."""

    __tablename__ = "challenge_awards"
    __table_args__ = (UniqueConstraint("proposal_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("challenge_proposals.id", ondelete="CASCADE"))
    introduction_id: Mapped[int | None] = mapped_column(ForeignKey("introductions.id", ondelete="SET NULL"),
                                                        index=True)
    amount_rmb: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    awarded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    awarded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    proposal: Mapped[ChallengeProposal] = relationship()

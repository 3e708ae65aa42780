"""Challenge reports: one challenge (for its challenger and operators) and the funnel across challenges (for
operators), and the challenger's Excel export of the proposals with their aggregate scores.

Per challenge: proposals received (ever submitted) and by status, by the kind of their lead organisation, the
days from publication to the award, and the milestones met (accepted; on time when accepted by their due
date). Across challenges: published → received a proposal → awarded → delivered, with each step's share of
the one before, and the median days to award.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from statistics import median

from flask_babel import lazy_gettext as _l

from marketplace.models.challenges import Challenge
from marketplace.queries import challenge_reports as q
from marketplace.services import access
from marketplace.services.challenges import evaluation
from marketplace.services.errors import PermissionDenied
from marketplace.services.exports import ExportColumn, ExportTable
from marketplace.vocabulary import label

FUNNEL_LABELS = {"published": _l("Published"), "proposals": _l("Received proposals"), "awarded": _l("Awarded"),
                 "delivered": _l("Delivered")}


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def days_between(start: datetime | None, end: datetime | None) -> float | None:
    """Days from ``start`` to ``end`` (one decimal), None when either is missing."""
    if start is None or end is None:
        return None
    return round((_aware(end) - _aware(start)).total_seconds() / 86400, 1)


@dataclass
class ChallengeReport:
    """One challenge's figures."""

    challenge: Challenge
    by_status: dict[str, int]
    by_org_kind: dict[str, int]
    days_to_award: float | None
    milestones_total: int
    milestones_delivered: int
    milestones_accepted: int
    milestones_on_time: int
    milestones_overdue: int

    @property
    def received(self) -> int:
        return sum(n for status, n in self.by_status.items() if status in q.RECEIVED_STATUSES)


def challenge_report(user, challenge: Challenge, *, today=None) -> ChallengeReport:
    """The figures of one challenge, for its challenger and operators."""
    evaluation.require_challenger(user, challenge)
    today = today or datetime.now(timezone.utc).date()
    stones = q.milestones_of(challenge.id)
    accepted = [m for m in stones if m.status == "accepted"]
    on_time = [m for m in accepted if m.accepted_at and _aware(m.accepted_at).date() <= m.due_on]
    overdue = [m for m in stones if m.status != "accepted" and m.due_on < today]
    return ChallengeReport(challenge, q.proposals_by_status(challenge.id), q.received_by_org_kind(challenge.id),
                           days_between(challenge.published_at, challenge.awarded_at), len(stones),
                           sum(1 for m in stones if m.status in ("delivered", "accepted")), len(accepted),
                           len(on_time), len(overdue))


@dataclass
class FunnelStep:
    key: str
    label: object
    count: int
    rate: float | None  # share of the previous step (None for the first or with nothing before)


@dataclass
class Funnel:
    steps: list[FunnelStep] = field(default_factory=list)
    median_days_to_award: float | None = None
    by_status: dict[str, int] = field(default_factory=dict)


def funnel(user) -> Funnel:
    """Published → received proposals → awarded → delivered across every challenge (operators only)."""
    if not access.is_staff(user):
        raise PermissionDenied(_l("Only the platform's operators see the figures across challenges."))
    counts = q.funnel_counts()
    steps, previous = [], None
    for key in q.FUNNEL_STEPS:
        rate = round(counts[key] / previous, 3) if previous else None
        steps.append(FunnelStep(key, FUNNEL_LABELS[key], counts[key], rate))
        previous = counts[key]
    durations = [d for d in (days_between(p, a) for p, a in q.award_times()) if d is not None]
    return Funnel(steps, round(median(durations), 1) if durations else None, q.challenges_by_status())


def funnel_chart_data(result: Funnel) -> list[tuple[str, int, float | None]]:
    """(label, count, conversion) triples for the server-drawn funnel chart."""
    return [(str(step.label), step.count, step.rate) for step in result.steps]


# --- the challenger's export ------------------------------------------------------------------------------

def _members(proposal) -> str:
    return "、".join(o.name_zh or o.name_en for o in proposal.members)


def export_proposals(user, challenge: Challenge) -> ExportTable:
    """Every proposal received with its lead, consortium, status, budget and aggregate score (challenger only)."""
    evaluation.require_challenger(user, challenge)
    ranking = {r.proposal.id: r for r in evaluation.results(challenge)}

    def result(attr):
        return lambda p: getattr(ranking[p.id], attr) if p.id in ranking else None

    columns = (
        ExportColumn("编号", "ID", lambda p: p.id),
        ExportColumn("方案", "Proposal", lambda p: p.title),
        ExportColumn("牵头单位", "Lead organisation", lambda p: p.lead_organization.name_zh
                     or p.lead_organization.name_en),
        ExportColumn("单位类型", "Organisation kind", lambda p: label("org_kind", p.lead_organization.kind)),
        ExportColumn("联合体成员", "Consortium members", _members),
        ExportColumn("状态", "Status", lambda p: label("proposal_status", p.status)),
        ExportColumn("提交时间", "Submitted", lambda p: p.submitted_at),
        ExportColumn("预算（元）", "Budget (RMB)", lambda p: p.budget_rmb),
        ExportColumn("加权平均分", "Weighted mean", result("mean")),
        ExportColumn("最低", "Lowest", result("low")),
        ExportColumn("最高", "Highest", result("high")),
        ExportColumn("标准差", "Std deviation", result("spread")),
        ExportColumn("评审人数", "Evaluators", result("scored_by")),
        ExportColumn("排名", "Rank", result("rank")),
    )
    return ExportTable(f"challenge-{challenge.id}-proposals", columns, q.proposals_for_export(challenge.id))

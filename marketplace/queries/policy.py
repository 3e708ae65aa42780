"""Reads for the policy desk: the public catalogue, a firm's filings, an office's queue and public counts."""
from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace.models import PolicyFiling, PolicyFilingPart, PolicyMeasure, PolicyOffice
from marketplace.services.cleaning import parse_id


def measures(q: str = "", *, include_archived: bool = False) -> list[PolicyMeasure]:
    """Measures in force (all of them for operators), optionally matching words in titles or benefits."""
    stmt = select(PolicyMeasure).options(selectinload(PolicyMeasure.offices))
    if not include_archived:
        stmt = stmt.where(PolicyMeasure.status == "active")
    q = (q or "").strip()[:100]
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(*(getattr(PolicyMeasure, col).ilike(pattern, escape="\\") for col in (
            "title_zh", "title_en", "benefit_zh", "benefit_en", "beneficiaries_zh", "beneficiaries_en"))))
    return list(db.session.scalars(stmt.order_by(PolicyMeasure.source_code.desc(), PolicyMeasure.number)))


def measure(measure_id) -> PolicyMeasure | None:
    return db.session.get(PolicyMeasure, parse_id(measure_id) or 0)


def filing_organization(filing: PolicyFiling):
    """The organisation that filed (for the printable record)."""
    from marketplace.models import Organization
    return db.session.get(Organization, filing.organization_id)


def filings_of(org_ids) -> list[PolicyFiling]:
    if not org_ids:
        return []
    return list(db.session.scalars(select(PolicyFiling).where(PolicyFiling.organization_id.in_(list(org_ids)))
                                   .options(selectinload(PolicyFiling.parts))
                                   .order_by(PolicyFiling.created_at.desc(), PolicyFiling.id.desc())))


def office_queue(office_ids, *, open_only: bool = True) -> list[PolicyFilingPart]:
    """Parts waiting for the given offices, oldest first."""
    if not office_ids:
        return []
    stmt = (select(PolicyFilingPart).where(PolicyFilingPart.office_id.in_(list(office_ids)))
            .options(selectinload(PolicyFilingPart.filing), selectinload(PolicyFilingPart.measure)))
    if open_only:
        stmt = stmt.where(PolicyFilingPart.status.not_in(("supported", "declined")))
    return list(db.session.scalars(stmt.order_by(PolicyFilingPart.created_at, PolicyFilingPart.id)))


def offices() -> list[PolicyOffice]:
    return list(db.session.scalars(select(PolicyOffice).order_by(PolicyOffice.id)))


def public_counts() -> dict:
    """Filings per measure and per office, with supported parts and amounts: figures computed, never typed."""
    per_measure = db.session.execute(
        select(PolicyFilingPart.measure_id, func.count(PolicyFilingPart.id),
               func.count(PolicyFilingPart.id).filter(PolicyFilingPart.status == "supported"),
               func.coalesce(func.sum(PolicyFilingPart.amount_rmb).filter(PolicyFilingPart.status == "supported"), 0))
        .group_by(PolicyFilingPart.measure_id)).all()
    per_office = db.session.execute(
        select(PolicyFilingPart.office_id, func.count(PolicyFilingPart.id),
               func.count(PolicyFilingPart.id).filter(PolicyFilingPart.status.in_(("supported", "declined"))))
        .group_by(PolicyFilingPart.office_id)).all()
    return {"measures": {row[0]: {"filed": row[1], "supported": row[2], "amount": row[3]} for row in per_measure},
            "offices": {row[0]: {"filed": row[1], "decided": row[2]} for row in per_office}}


def liaison_reports_of(org_ids) -> list:
    """A firm's own reports, newest first."""
    from marketplace.models import LiaisonReport
    if not org_ids:
        return []
    return list(db.session.scalars(select(LiaisonReport).where(LiaisonReport.organization_id.in_(list(org_ids)))
                                   .order_by(LiaisonReport.created_at.desc(), LiaisonReport.id.desc())))


def liaison_reports_for(viewer, *, status: str | None = None, limit: int = 500) -> list:
    """Reports ``viewer`` (carrying its sub-park posts) may see: waiting ones first, by deadline."""
    from marketplace import visibility
    from marketplace.models import LiaisonReport
    stmt = (select(LiaisonReport).where(visibility.LIAISON_REPORT_OPEN.clause(viewer))
            .options(selectinload(LiaisonReport.organization), selectinload(LiaisonReport.routed_office)))
    if status:
        stmt = stmt.where(LiaisonReport.status == status)
    return list(db.session.scalars(stmt.order_by((LiaisonReport.status != "open"), LiaisonReport.respond_by,
                                                 LiaisonReport.id).limit(limit)))


def liaison_desk(sub_parks, *, everything: bool = False) -> dict:
    """A sub-park desk: its firms, reports waiting (overdue first), answered ones with response times, filings.

    ``everything`` (operators) covers every sub-park and the reports of firms with none.
    """
    from marketplace.models import LiaisonReport, Organization
    scope = (lambda col: col.isnot(None) | col.is_(None)) if everything else (lambda col: col.in_(list(sub_parks)))
    reports = list(db.session.scalars(select(LiaisonReport).where(scope(LiaisonReport.sub_park))
                                      .options(selectinload(LiaisonReport.organization))
                                      .order_by(LiaisonReport.respond_by, LiaisonReport.id)))
    waiting = [r for r in reports if r.status == "open"]
    answered = [r for r in reports if r.answered_at is not None]
    hours = [(_aware(r.answered_at) - _aware(r.created_at)).total_seconds() / 3600 for r in answered]
    firms = db.session.scalar(select(func.count(Organization.id)).where(
        scope(Organization.sub_park), Organization.kind == "firm")) or 0
    filings = db.session.scalar(select(func.count(PolicyFiling.id)).join(
        Organization, Organization.id == PolicyFiling.organization_id).where(scope(Organization.sub_park))) or 0
    return {"waiting": waiting, "others": [r for r in reports if r.status != "open"], "firms": firms,
            "filings": filings, "mean_response_hours": round(sum(hours) / len(hours), 1) if hours else None}


def _aware(moment):
    from datetime import timezone
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def programme_figures() -> list[dict]:
    """Each programme with its entries counted and summed, and the share of its budget used."""
    from marketplace.models import FundingProgramme, ProgrammeEntry
    totals = {row[0]: (row[1], row[2] or 0) for row in db.session.execute(
        select(ProgrammeEntry.programme_id, func.count(ProgrammeEntry.id), func.sum(ProgrammeEntry.amount_rmb))
        .group_by(ProgrammeEntry.programme_id))}
    out = []
    for programme in db.session.scalars(select(FundingProgramme).order_by(FundingProgramme.id)):
        count, amount = totals.get(programme.id, (0, 0))
        share = float(amount) / float(programme.budget_rmb) if programme.budget_rmb else None
        out.append({"programme": programme, "count": count, "amount": amount,
                    "share": round(100 * share, 1) if share is not None else None})
    return out


def programme(programme_id):
    from marketplace.models import FundingProgramme
    return db.session.get(FundingProgramme, parse_id(programme_id) or 0)

"""Funding programmes and the loans, investments and grants made under them; the figures people read are
counted from these entries. A supported filing part under a programme's measure becomes an entry by itself."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import FundingProgramme, Organization, PolicyFilingPart, PolicyMeasure, ProgrammeEntry
from marketplace.reference import policies as reference
from marketplace.services import access, audit
from marketplace.services.cleaning import Cleaner, parse_id
from marketplace.services.errors import PermissionDenied, ValidationFailed

MAX_AMOUNT = Decimal("100000000000")  # 100 billion: no single entry is larger


def load_reference(session) -> int:
    """Add the reference programmes that are missing (by code); returns how many were added."""
    existing = set(session.scalars(select(FundingProgramme.code)))
    measures = {m.number: m.id for m in session.scalars(select(PolicyMeasure).where(
        PolicyMeasure.source_code == "zgc-2020"))}
    added = 0
    for code, kind, zh, en, desc_zh, desc_en, budget, started, measure_number in reference.PROGRAMMES:
        if code in existing:
            continue
        session.add(FundingProgramme(code=code, kind=kind, name_zh=zh, name_en=en, description_zh=desc_zh,
                                     description_en=desc_en, budget_rmb=budget, started_on=started,
                                     measure_id=measures.get(measure_number)))
        added += 1
    session.flush()
    return added


def record_entry(user, programme: FundingProgramme, data: dict, *, today: date) -> ProgrammeEntry:
    """An operator records a loan, investment or grant made under ``programme``."""
    if not access.is_staff(user):
        raise PermissionDenied(_l("Only platform operators may do this."))
    c = Cleaner(data)
    amount = c.decimal("amount_rmb", required=True, min_value=0)
    granted_on = c.date("granted_on") or today
    note = c.text("note", max_length=300)
    org_id = parse_id(data.get("organization_id")) if data.get("organization_id") else None
    if data.get("organization_id") and (org_id is None or db.session.get(Organization, org_id) is None):
        c.errors["organization_id"] = _l("No such organisation.")
    if amount is not None and not (0 < Decimal(amount) <= MAX_AMOUNT):
        c.errors["amount_rmb"] = _l("Enter an amount above zero.")
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=dict(c.errors))
    entry = ProgrammeEntry(programme_id=programme.id, organization_id=org_id, amount_rmb=Decimal(amount),
                           granted_on=granted_on, note=note, source="operator", recorded_by_id=audit.actor_of(user))
    db.session.add(entry)
    db.session.flush()
    audit.record(db.session, actor_id=audit.actor_of(user), action="policy", object_type="programme_entry",
                 object_id=entry.id, organization_id=org_id, summary=f"{programme.name_zh} {amount}")
    return entry


def record_supported_part(part: PolicyFilingPart) -> list[ProgrammeEntry]:
    """Entries for a part just supported, in every programme of its measure (once per part)."""
    if part.status != "supported" or part.amount_rmb is None or part.amount_rmb <= 0:
        return []
    programmes = db.session.scalars(select(FundingProgramme).where(FundingProgramme.measure_id == part.measure_id))
    entries = []
    for programme in programmes:
        if db.session.scalar(select(ProgrammeEntry.id).where(ProgrammeEntry.filing_part_id == part.id)):
            continue
        entry = ProgrammeEntry(programme_id=programme.id, organization_id=part.filing.organization_id,
                               amount_rmb=part.amount_rmb, granted_on=(part.decided_at.date() if part.decided_at
                                                                       else date.today()),
                               source="filing", filing_part_id=part.id, note=part.filing.title[:300],
                               recorded_by_id=part.decided_by_id)
        db.session.add(entry)
        entries.append(entry)
    db.session.flush()
    return entries

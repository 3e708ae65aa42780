"""Filings (备案): a firm claims measures for a project; each measure's office reviews its part.

The record's title is the one the 2020 notice prescribes, "date-firm short name (measure numbers)", e.g.
``20200206 XXX公司（第2、4、7条）``. A filing cannot be edited once submitted; offices move their parts through
received → in review → (more information requested ↔ in review) → supported with an amount | declined with a
reason. Every step is audited and the firm sees it on the filing's page.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace import vocabulary
from marketplace.extensions import db
from marketplace.models import (Organization, PolicyFiling, PolicyFilingPart, PolicyMeasure, PolicyOfficeStaff)
from marketplace.models.policy import PART_CLOSED
from marketplace.services import access, audit
from marketplace.services.cleaning import Cleaner, parse_id
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.services.locks import lock_instance
from marketplace.services.policy import programmes

DIRECTIONS = ("D1", "D2", "D3", "D4", "D5")
MAX_MEASURES = 20
# Allowed moves of a part; a closed part (supported, declined) never moves again.
TRANSITIONS = {
    "received": ("in_review", "info_requested", "supported", "declined"),
    "in_review": ("info_requested", "supported", "declined"),
    "info_requested": ("in_review", "supported", "declined"),
}


def record_title(filed_on: date, short_name: str, numbers) -> str:
    """``20200206 XXX公司（第2、4、7条）``: the date, a space, the short name, the measure numbers in full-width
    brackets, ascending, joined by the enumeration comma."""
    listed = "、".join(str(n) for n in sorted(set(numbers)))
    return f"{filed_on:%Y%m%d} {short_name.strip()}（第{listed}条）"


def preview_title(filed_on: date, short_name: str, values) -> str:
    """The title a filing would get, for the form (unreadable measure numbers left out, "…" for none)."""
    numbers = [n for n in map(parse_id, values or []) if n is not None and n <= 1000]
    if not numbers:
        return f"{filed_on:%Y%m%d} {(short_name or '…').strip()}（第…条）"
    return record_title(filed_on, short_name or "…", numbers)


def _measure_numbers(values) -> list[int]:
    numbers = []
    for value in values if isinstance(values, (list, tuple)) else [values]:
        number = parse_id(value)
        if number is None or number > 1000:
            raise ValidationFailed(_l("Choose the measures from the list."), field_errors={
                "measures": _l("Choose the measures from the list.")})
        numbers.append(number)
    return sorted(set(numbers))


def file_project(user, org: Organization, data: dict, *, today: date) -> PolicyFiling:
    """Submit a filing for ``org`` (the user must be one of its members) and flush.

    ``data``: ``measures`` (numbers), ``project_name``, ``direction`` (D1-D5), ``description``, ``contact_name``,
    ``contact_phone``. Raises ValidationFailed with per-field errors and changes nothing when anything is wrong.
    """
    if not access.is_member_of(user, org.id):
        raise PermissionDenied(_l("Only members of the organisation may file for it."))
    c = Cleaner(data)
    project = c.text("project_name", required=True, max_length=300)
    direction = c.choice("direction", DIRECTIONS, required=True)
    description = c.text("description", required=True, max_length=5000)
    contact_name = c.text("contact_name", required=True, max_length=100)
    contact_phone = c.text("contact_phone", required=True, max_length=40)
    errors = dict(c.errors)
    try:
        numbers = _measure_numbers(data.get("measures") or [])
    except ValidationFailed as exc:
        errors.update(exc.field_errors)
        numbers = []
    if not numbers and "measures" not in errors:
        errors["measures"] = _l("Choose at least one measure.")
    if len(numbers) > MAX_MEASURES:
        errors["measures"] = _l("Choose at most %(n)d measures.", n=MAX_MEASURES)
    measures = {m.number: m for m in db.session.scalars(select(PolicyMeasure).where(
        PolicyMeasure.number.in_(numbers), PolicyMeasure.status == "active"))} if numbers else {}
    if numbers and set(measures) != set(numbers):
        errors["measures"] = _l("Some of the chosen measures do not exist or are no longer in force.")
    if not (org.short_name or "").strip():
        errors["short_name"] = _l("Add the organisation's short name (简称) to its profile first: the record's "
                                  "title uses it.")
    if errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=errors)
    filing = PolicyFiling(organization_id=org.id, submitted_by_id=audit.actor_of(user), project_name=project,
                          direction=direction, description=description, contact_name=contact_name,
                          contact_phone=contact_phone, filed_on=today, status="submitted",
                          title=record_title(today, org.short_name, numbers))
    for number in numbers:
        measure = measures[number]
        office = measure.offices[0] if measure.offices else None
        filing.parts.append(PolicyFilingPart(measure_id=measure.id, measure_number=number,
                                             office_id=office.id if office else None, status="received"))
    db.session.add(filing)
    db.session.flush()
    audit.record(db.session, actor_id=audit.actor_of(user), action="policy", object_type="policy_filing",
                 object_id=filing.id, organization_id=org.id, summary=filing.title,
                 details={"measures": numbers})
    return filing


def office_ids_of(user) -> set[int]:
    """The offices ``user`` reviews for."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(db.session.scalars(select(PolicyOfficeStaff.office_id).where(PolicyOfficeStaff.user_id == user.id)))


def can_see_filing(user, filing: PolicyFiling) -> bool:
    """Members of the filing organisation, operators, and staff of an office with a part in it."""
    if access.is_staff(user) or access.is_member_of(user, filing.organization_id):
        return True
    return bool(office_ids_of(user) & {p.office_id for p in filing.parts})


def get_filing(user, filing_id) -> PolicyFiling:
    """The filing if ``user`` may see it; NotFound otherwise (no hint that it exists)."""
    filing = db.session.get(PolicyFiling, parse_id(filing_id) or 0)
    if filing is None or not can_see_filing(user, filing):
        raise NotFound(_l("No such filing."))
    return filing


def can_review(user, part: PolicyFilingPart) -> bool:
    return part.office_id is not None and part.office_id in office_ids_of(user)


def review_part(user, part_id, data: dict, *, now: datetime | None = None) -> PolicyFilingPart:
    """Move one part of a filing (office staff of that part only) and flush.

    ``data``: ``status`` (one of the allowed next states), ``amount_rmb`` (required when supported), ``note``
    (required when declining or asking for more information).
    """
    part = db.session.get(PolicyFilingPart, parse_id(part_id) or 0)
    if part is None or not (can_review(user, part) or can_see_filing(user, part.filing)):
        raise NotFound(_l("No such filing."))
    if not can_review(user, part):
        raise PermissionDenied(_l("Only staff of the responsible office may review this measure."))
    part = lock_instance(part)  # two reviewers at once: the second sees the first's decision
    c = Cleaner(data)
    allowed = TRANSITIONS.get(part.status, ())
    if part.status in PART_CLOSED:
        raise Conflict(_l("This part of the filing has already been decided."))
    status = c.choice("status", allowed, required=True)
    amount = c.decimal("amount_rmb", min_value=0) if status == "supported" else None
    note = c.text("note", max_length=2000)
    if status == "supported" and amount is None and "amount_rmb" not in c.errors:
        c.errors["amount_rmb"] = _l("Enter the amount of support.")
    if status in ("declined", "info_requested") and not note:
        c.errors["note"] = _l("Say why, or what is needed: the firm reads it.")
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=dict(c.errors))
    before = part.status
    part.status, part.note = status, note or part.note
    part.amount_rmb = Decimal(amount) if amount is not None else part.amount_rmb
    part.decided_by_id = audit.actor_of(user)
    part.decided_at = now or datetime.now(timezone.utc)
    db.session.flush()
    programmes.record_supported_part(part)
    audit.record(db.session, actor_id=audit.actor_of(user), action="policy", object_type="policy_filing",
                 object_id=part.filing_id, organization_id=part.filing.organization_id,
                 summary=f"{part.filing.title} · {vocabulary.label('policy_part_status', status)}",
                 details={"part": part.id, "from": before, "to": status,
                          "amount_rmb": str(part.amount_rmb) if part.amount_rmb is not None else None})
    return part

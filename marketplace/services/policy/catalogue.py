"""The catalogue of support measures: loading the reference set, and operators' edits with their history."""
from __future__ import annotations

import json
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from marketplace import jobs
from marketplace.extensions import db
from marketplace.models import PolicyMeasure, PolicyMeasureRevision, PolicyOffice
from marketplace.reference import policies as reference
from marketplace.services import access, audit
from marketplace.services.cleaning import Cleaner
from marketplace.services.errors import PermissionDenied, ValidationFailed
from marketplace.services.locks import lock_instance
from marketplace.services.policy.eligibility import validate_conditions

EDITABLE = ("title_zh", "title_en", "beneficiaries_zh", "beneficiaries_en", "benefit_zh", "benefit_en", "source_text")


def load_reference(session, *, announce: bool = False) -> int:
    """Add the offices and measures of the reference set that are missing (by code / source and number);
    returns how many measures were added. Existing records, possibly edited by operators, are kept. With
    ``announce`` the firms a newly added measure may fit are told (not on a first load of an empty catalogue)."""
    offices = {o.code: o for o in session.scalars(select(PolicyOffice))}
    for code, zh, en, contacts in reference.OFFICES:
        if code not in offices:
            offices[code] = PolicyOffice(code=code, name_zh=zh, name_en=en, contacts=contacts)
            session.add(offices[code])
    existing = {(m.source_code, m.number) for m in session.scalars(select(PolicyMeasure))}
    added = 0
    for (source, number, title_zh, title_en, who_zh, who_en, benefit_zh, benefit_en, amount, office_codes,
         conditions, text) in reference.MEASURES:
        code, source_zh, source_en = source
        if (code, number) in existing:
            continue
        session.add(PolicyMeasure(
            source_code=code, source_title_zh=source_zh, source_title_en=source_en, number=number,
            title_zh=title_zh, title_en=title_en, beneficiaries_zh=who_zh, beneficiaries_en=who_en,
            benefit_zh=benefit_zh, benefit_en=benefit_en, max_amount_rmb=amount, source_text=text,
            valid_from=date(2020, 2, 7) if code == "zgc-2020" else date(2022, 6, 10), conditions=conditions,
            offices=[offices[c] for c in office_codes]))
        added += 1
    session.flush()
    if announce and existing:
        from marketplace.services.policy.announcements import ANNOUNCE_JOB
        for measure in session.scalars(select(PolicyMeasure)):
            if (measure.source_code, measure.number) not in existing:
                jobs.enqueue(session, ANNOUNCE_JOB, measure_id=measure.id)
    from marketplace.services.policy import programmes
    programmes.load_reference(session)
    return added


def snapshot(measure: PolicyMeasure) -> dict:
    """The measure's editable content as plain data (a revision keeps it)."""
    data = {key: getattr(measure, key) for key in EDITABLE}
    data.update(conditions=measure.conditions, status=measure.status,
                max_amount_rmb=str(measure.max_amount_rmb) if measure.max_amount_rmb is not None else None,
                valid_until=measure.valid_until.isoformat() if measure.valid_until else None)
    return data


PARK_SOURCE = ("park", "园区新增支持措施", "Measures added by the park")


def _cleaned(data: dict, current_conditions) -> tuple[dict, Cleaner]:
    """The editable content of a measure from a form or API body, checked (one rule for adding and editing)."""
    c = Cleaner(data)
    values = {key: c.text(key, required=key == "title_zh", max_length=300 if key.startswith("title") else 20000)
              for key in EDITABLE}
    values["status"] = c.choice("status", ("active", "archived"), required=True)
    values["max_amount_rmb"] = c.decimal("max_amount_rmb", min_value=0)
    values["valid_until"] = c.date("valid_until")
    try:
        conditions = json.loads(data.get("conditions") or "[]") if isinstance(data.get("conditions"), str) \
            else data.get("conditions", current_conditions)
    except ValueError:
        conditions = None
    problems = validate_conditions(conditions) if conditions is not None else [str(_l("Conditions must be JSON."))]
    if problems:
        c.errors["conditions"] = " ".join(problems)
    values["conditions"] = conditions
    return values, c


def _announce_if_in_force(measure: PolicyMeasure) -> None:
    """Tell the firms an active measure may fit, after the commit, in a job (every organisation is evaluated)."""
    if measure.status == "active":
        from marketplace.services.policy.announcements import ANNOUNCE_JOB
        jobs.enqueue(db.session, ANNOUNCE_JOB, measure_id=measure.id)


def create_measure(user, data: dict, *, today: date) -> PolicyMeasure:
    """An operator adds a measure of the park's own (numbered after the last one it added), with at least one
    responsible office; the firms it may fit are told once it is saved."""
    if not access.is_staff(user):
        raise PermissionDenied(_l("Only platform operators may do this."))
    values, c = _cleaned(data, [])
    chosen = {str(code) for code in (data.get("office_codes") or [])}
    offices = [o for o in db.session.scalars(select(PolicyOffice).order_by(PolicyOffice.id)) if o.code in chosen]
    if not offices:
        c.errors["office_codes"] = str(_l("Choose the office that answers for this measure."))
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=dict(c.errors))
    code, source_zh, source_en = PARK_SOURCE
    number = (db.session.scalar(select(func.max(PolicyMeasure.number)).where(PolicyMeasure.source_code == code))
              or 0) + 1
    measure = PolicyMeasure(source_code=code, source_title_zh=source_zh, source_title_en=source_en, number=number,
                            valid_from=today, offices=offices, **values)
    db.session.add(measure)
    db.session.flush()  # two operators adding at once: the (source, number) unique key refuses the second
    _announce_if_in_force(measure)
    audit.record(db.session, actor_id=audit.actor_of(user), action="policy", object_type="policy_measure",
                 object_id=measure.id, summary=f"新增 第{measure.number}条 {measure.title_zh}",
                 details={"version": measure.version, "added": True})
    return measure


def update_measure(user, measure: PolicyMeasure, data: dict) -> PolicyMeasure:
    """An operator's change to a measure: the previous content becomes a revision, the version goes up."""
    if not access.is_staff(user):
        raise PermissionDenied(_l("Only platform operators may do this."))
    measure = lock_instance(measure)
    values, c = _cleaned(data, measure.conditions)
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=dict(c.errors))
    before = snapshot(measure)
    db.session.add(PolicyMeasureRevision(measure_id=measure.id, version=measure.version, snapshot=before,
                                         changed_by_id=audit.actor_of(user)))
    for key, value in values.items():
        setattr(measure, key, value)
    measure.version += 1
    db.session.flush()
    if snapshot(measure) != before:
        # Published content changed (or the measure came back into force): tell the firms it may fit.
        _announce_if_in_force(measure)
    audit.record(db.session, actor_id=audit.actor_of(user), action="policy", object_type="policy_measure",
                 object_id=measure.id, summary=f"第{measure.number}条 {measure.title_zh}",
                 details={"version": measure.version})
    return measure


def measure_count(session) -> int:
    return session.scalar(select(func.count(PolicyMeasure.id))) or 0

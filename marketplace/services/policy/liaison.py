"""Enterprise liaison: a firm reports a difficulty (materials, supply chain, logistics, staff return, financing,
legal, space) or the measures it took; its sub-park's staff answer before the deadline, route it to an office,
turn it into a marketplace need that suppliers can answer, or close it with a result. Overdue reports are
escalated to operators by a job."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace import visibility
from marketplace.extensions import db
from marketplace.models import LiaisonReport, PolicyOffice, SupplyChain
from marketplace.models.liaison import REPORT_OPEN, REPORT_TOPICS
from marketplace.services import access, audit
from marketplace.services import needs as need_service
from marketplace.services.cleaning import Cleaner, parse_id
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.services.locks import lock_instance
from marketplace.services.policy import posts

RESPONSE_DAYS = 3
ESCALATE_JOB = "policy.escalate_overdue_reports"
ACTIONS = ("answer", "route", "post_need", "close")
# What kind of marketplace need a report becomes.
NEED_KIND_FOR_TOPIC = {"materials": "manufacturing_supply", "supply_chain": "manufacturing_supply",
                       "financing": "financing", "space": "space"}


sub_parks_of = posts.sub_parks_of


def can_handle(user, report: LiaisonReport) -> bool:
    """Staff of the report's sub-park, and operators (who also take reports of firms with no sub-park)."""
    return visibility.LIAISON_REPORT_HANDLE.allows(posts.viewer(user), report)


def can_see(user, report: LiaisonReport) -> bool:
    """The firm's members, its sub-park's staff and operators (``visibility.LIAISON_REPORT_OPEN``)."""
    return visibility.LIAISON_REPORT_OPEN.allows(posts.viewer(user), report)


def get_report(user, report_id) -> LiaisonReport:
    report = db.session.get(LiaisonReport, parse_id(report_id) or 0)
    if report is None or not can_see(user, report):
        raise NotFound(_l("No such report."))
    return report


def submit(user, org, data: dict, *, now: datetime, response_days: int = RESPONSE_DAYS) -> LiaisonReport:
    """A member's report for ``org``; it waits for the sub-park's answer until ``now + response_days``."""
    if not access.is_member_of(user, org.id):
        raise PermissionDenied(_l("Only members of the organisation may report for it."))
    c = Cleaner(data)
    topic = c.choice("topic", REPORT_TOPICS, required=True)
    title = c.text("title", required=True, max_length=200)
    body = c.text("body", required=True, max_length=5000)
    chain_id = None
    if data.get("supply_chain_id") not in (None, ""):
        chain = db.session.get(SupplyChain, parse_id(data.get("supply_chain_id")) or 0)
        if chain is None or chain.organization_id != org.id:
            c.errors["supply_chain_id"] = _l("Choose one of your organisation's supply chains.")
        elif topic != "supply_chain":
            c.errors["supply_chain_id"] = _l("Only a supply-chain report names a supply chain.")
        else:
            chain_id = chain.id
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=dict(c.errors))
    report = LiaisonReport(organization_id=org.id, reported_by_id=audit.actor_of(user), sub_park=org.sub_park,
                           topic=topic, title=title, body=body, status="open", supply_chain_id=chain_id,
                           respond_by=now + timedelta(days=response_days))
    db.session.add(report)
    db.session.flush()
    return report


def handle(user, report_id, data: dict, *, now: datetime) -> LiaisonReport:
    """Sub-park staff (or an operator) act on a report: ``action`` is answer, route (``office_id``), post_need
    (the report becomes an open need of the firm) or close (``result``)."""
    report = get_report(user, report_id)
    if not can_handle(user, report):
        raise PermissionDenied(_l("Only the staff of the firm's sub-park may answer this report."))
    report = lock_instance(report)  # two staff members at once: the second sees the first's action
    c = Cleaner(data)
    action = c.choice("action", ACTIONS, required=True)
    text = c.text("text", max_length=5000)
    if action != "close" and report.status not in REPORT_OPEN:
        raise Conflict(_l("This report has already been dealt with."))
    if report.status == "closed":
        raise Conflict(_l("This report is closed."))
    if action in ("answer", "close") and not text:
        c.errors["text"] = _l("Write the answer or the result: the firm reads it.")
    office = None
    if action == "route":
        office = db.session.get(PolicyOffice, parse_id(data.get("office_id")) or 0)
        if office is None:
            c.errors["office_id"] = _l("Choose an office.")
    if c.errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=dict(c.errors))
    if action == "answer":
        report.status, report.answer = "answered", text
    elif action == "route":
        report.status, report.routed_office_id = "routed", office.id
        report.answer = text or report.answer
    elif action == "post_need":
        need = need_service.post_need_for(user, report.organization_id,
                                          NEED_KIND_FOR_TOPIC.get(report.topic, "procurement"),
                                          {"title_zh": report.title, "description_zh": report.body})
        report.status, report.need_id = "need_posted", need.id
        report.answer = text or report.answer
    else:
        report.status, report.result = "closed", text
    report.answered_at = report.answered_at or now
    report.answered_by_id = audit.actor_of(user)
    db.session.flush()
    audit.record(db.session, actor_id=audit.actor_of(user), action="policy", object_type="liaison_report",
                 object_id=report.id, organization_id=report.organization_id, summary=report.title,
                 details={"action": action})
    return report


def escalate_overdue(now: datetime) -> list[LiaisonReport]:
    """Mark open reports past their deadline as escalated (once); the caller tells the operators."""
    overdue = list(db.session.scalars(select(LiaisonReport).where(
        LiaisonReport.status == "open", LiaisonReport.respond_by < now, LiaisonReport.escalated_at.is_(None))))
    for report in overdue:
        report.escalated_at = now
    db.session.flush()
    return overdue

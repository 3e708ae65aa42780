"""Telling firms about measures that may fit them: when a measure is published or its content changes (a job
after the operator's save), and when an operator reminds the firms that likely qualify and have not filed.

A firm is told at most once a day per measure whatever the reason: the notification's dedupe key names the
measure, the organisation and the day, so a second click, a second change the same day or a job run twice tells
nobody again. Each person's preferences for the ``policy`` kind decide the channels.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.links import path_for
from marketplace.models import Membership, Organization, PolicyFiling, PolicyFilingPart, PolicyMeasure
from marketplace.services import access, audit, notifications
from marketplace.services.errors import PermissionDenied
from marketplace.services.policy import eligibility

ANNOUNCE_JOB = "policy.announce_measure"
# Verdicts told about a new or changed measure; reminders go only to firms that likely qualify.
ANNOUNCED_VERDICTS = ("likely", "possible")


@dataclass
class Candidate:
    """An organisation evaluated for one measure."""

    organization: Organization
    fit: eligibility.MeasureFit
    filed: bool


def dedupe_key(measure_id: int, organization_id: int, day: date) -> str:
    """One notice per measure, organisation and day."""
    return f"policy:{measure_id}:{organization_id}:{day.isoformat()}"


def candidates(measure: PolicyMeasure, lang: str = "zh", *, verdicts=ANNOUNCED_VERDICTS) -> list[Candidate]:
    """Organisations with members whose verdict for ``measure`` is among ``verdicts``, likely first, with
    whether they already filed for it."""
    orgs = list(db.session.scalars(select(Organization).where(
        Organization.id.in_(select(Membership.organization_id))).order_by(Organization.id)))
    filed = set(db.session.scalars(select(PolicyFiling.organization_id).join(
        PolicyFilingPart, PolicyFilingPart.filing_id == PolicyFiling.id).where(
        PolicyFilingPart.measure_id == measure.id)))
    out = []
    for org in orgs:
        fit = eligibility.evaluate(measure, eligibility.facts_for(org), lang)
        if fit.verdict in verdicts:
            out.append(Candidate(org, fit, org.id in filed))
    order = {"likely": 0, "possible": 1, "unlikely": 2}
    return sorted(out, key=lambda c: (order[c.fit.verdict], -c.fit.share_met, c.organization.id))


def _tell(measure: PolicyMeasure, orgs: list[Organization], key: str, today: date) -> int:
    """Notify the members of each organisation (once a day per measure); returns how many organisations were
    told now."""
    link = path_for("policy.measure", measure_id=measure.id)
    messages = [notifications.Message(notifications.members_of(org.id),
                                      {"org": notifications.bilingual(org, "name"),
                                       "measure": {"zh": f"第{measure.number}条 {measure.title_zh}",
                                                   "en": f"Measure {measure.number}: {measure.title_en or measure.title_zh}"}},
                                      link, dedupe_key(measure.id, org.id, today), measure)
                for org in orgs]
    created = notifications.notify_each("policy", key, messages)
    told_users = {n.user_id for n in created}
    return sum(1 for org, message in zip(orgs, messages) if told_users & set(message.user_ids))


def announce(measure_id: int, *, today: date) -> int:
    """A measure was published or changed: tell the firms that likely or possibly qualify and have not filed
    for it (the job enqueued by the catalogue). Returns how many organisations were told."""
    measure = db.session.get(PolicyMeasure, measure_id)
    if measure is None or measure.status != "active":
        return 0
    orgs = [c.organization for c in candidates(measure) if not c.filed]
    return _tell(measure, orgs, "measure_changed", today)


def remind_unfiled(user, measure: PolicyMeasure, *, today: date) -> int:
    """An operator tells the firms that likely qualify for ``measure`` and have not filed; idempotent within a
    day. Returns how many organisations were told now."""
    if not access.is_staff(user):
        raise PermissionDenied(_l("Only platform operators may do this."))
    orgs = [c.organization for c in candidates(measure, verdicts=("likely",)) if not c.filed]
    told = _tell(measure, orgs, "measure_reminder", today)
    audit.record(db.session, actor_id=audit.actor_of(user), action="policy", object_type="policy_measure",
                 object_id=measure.id, summary=f"第{measure.number}条 {measure.title_zh}",
                 details={"reminded": told})
    return told

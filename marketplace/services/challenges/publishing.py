"""Publishing a challenge: create (from scratch or from a need), edit, submit for verification, the operator's
decision, withdrawal, and closing challenges whose deadline passed. Services only flush."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Challenge, ChallengeCriterion, Need, Organization
from marketplace.services import access, audit, confidentiality, locks, versions
from marketplace.services.challenges import common
from marketplace.services.cleaning import Cleaner
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.services.events.common import DEFAULT_TZ, local, parse_local, zone
from marketplace.services.offers import fields_by_codes
from marketplace.vocabulary import TIMEZONE_LABELS

MAX_CRITERIA = 8
MAX_MILESTONES = 12
TEXT_FIELDS = (("title_zh", 300), ("title_en", 300), ("summary_zh", 2000), ("summary_en", 2000),
               ("problem_zh", 20000), ("problem_en", 20000), ("requirements_zh", 20000), ("requirements_en", 20000),
               ("ip_terms_zh", 5000), ("ip_terms_en", 5000), ("confidential_zh", 20000),
               ("confidential_en", 20000), ("award_note", 2000))
CLOSE_JOB = "challenges.close_due"
DECISIONS = {"approve": "published", "request_changes": "sent_back", "reject": "rejected"}
MESSAGE_OF = {"approve": "challenge_approved", "request_changes": "challenge_sent_back",
              "reject": "challenge_rejected"}


def parse_plan(value) -> tuple[list[dict], str | None]:
    """Milestones typed one per line as "title | months" (months optional) or given as a list of mappings."""
    rows = value if isinstance(value, list) else [line for line in str(value or "").splitlines() if line.strip()]
    plan = []
    for row in rows:
        if isinstance(row, dict):
            title, months = str(row.get("title") or "").strip(), row.get("months")
        else:
            title, _, months = str(row).partition("|")
            title = title.strip()
        months_text = str(months).strip() if months not in (None, "") else ""
        if not title or len(title) > 300:
            return [], str(_l("Each milestone needs a title of at most 300 characters."))
        if months_text and (not months_text.isdigit() or not 1 <= int(months_text) <= 120):
            return [], str(_l("Months must be a whole number between 1 and 120: %(v)s.", v=months_text))
        plan.append({"title": title, "months": int(months_text) if months_text else None})
    if len(plan) > MAX_MILESTONES:
        return [], str(_l("At most %(n)d milestones.", n=MAX_MILESTONES))
    return plan, None


def plan_text(plan: list) -> str:
    """The milestones as the form shows them."""
    return "\n".join(f"{m['title']} | {m['months']}" if m.get("months") else m["title"] for m in plan or [])


def _clean_criteria(rows, c: Cleaner) -> list[dict]:
    criteria = []
    for i, row in enumerate(rows or []):
        if not isinstance(row, dict):
            c.error("criteria", _l("Each criterion needs a name and a weight."))
            continue
        name_zh = str(row.get("name_zh") or "").strip()[:200]
        name_en = str(row.get("name_en") or "").strip()[:200]
        weight = str(row.get("weight") if row.get("weight") is not None else "").strip()
        if not (name_zh or name_en or weight):
            continue  # an empty row of the form
        if not (name_zh or name_en):
            c.error(f"criterion_{i + 1}", _l("Give the criterion a name."))
        if not weight.isdigit() or not 1 <= int(weight) <= 100:
            c.error(f"criterion_{i + 1}", _l("The weight is a whole number from 1 to 100."))
            continue
        criteria.append({"name_zh": name_zh, "name_en": name_en, "weight": int(weight)})
    if len(criteria) > MAX_CRITERIA:
        c.error("criteria", _l("At most %(n)d criteria.", n=MAX_CRITERIA))
    return criteria


def clean_challenge(data: dict) -> tuple[dict, dict]:
    """Typed values and per-field errors of a challenge form or API body (nothing is stored)."""
    c = Cleaner(data)
    for key, size in TEXT_FIELDS:
        c.text(key, max_length=size)
    if not (c.values["title_zh"] or c.values["title_en"]):
        c.error("title_zh", _l("Give a title in Chinese or English."))
    c.decimal("award_min_rmb")
    c.decimal("award_max_rmb")
    low, high = c.values.get("award_min_rmb"), c.values.get("award_max_rmb")
    if low is not None and high is not None and low > high:
        c.error("award_max_rmb", _l("The maximum must not be below the minimum."))
    c.choices("eligible_kinds", common.SOLVER_KINDS)
    c.boolean("consortium_allowed", default=False)
    tz_name = str(data.get("timezone") or DEFAULT_TZ).strip()
    if tz_name not in TIMEZONE_LABELS:
        c.error("timezone", _l("Unknown time zone."))
        tz_name = DEFAULT_TZ
    c.values["timezone"] = tz_name
    c.values["deadline"] = parse_local(c, "deadline", zone(tz_name), required=True)
    plan, problem = parse_plan(data.get("milestone_plan"))
    if problem:
        c.error("milestone_plan", problem)
    c.values["milestone_plan"] = plan
    c.values["criteria"] = _clean_criteria(data.get("criteria"), c)
    codes = c.tags("field_codes", max_items=10)
    _, unknown = fields_by_codes(codes)
    if unknown:
        c.error("field_codes", _l("Unknown field code: %(v)s.", v=", ".join(unknown)))
    return c.values, c.errors


def _apply(challenge: Challenge, values: dict) -> None:
    for key, _size in TEXT_FIELDS:
        setattr(challenge, key, values[key])
    for key in ("award_min_rmb", "award_max_rmb", "eligible_kinds", "consortium_allowed", "timezone", "deadline",
                "milestone_plan"):
        setattr(challenge, key, values[key])
    challenge.fields, _ = fields_by_codes(values.get("field_codes") or [])
    wanted = values["criteria"]
    # replace the criteria in place, keeping the rows (and ids) of the ones still there
    for position, (row, criterion) in enumerate(zip(wanted, list(challenge.criteria))):
        criterion.position, criterion.name_zh, criterion.name_en, criterion.weight = (
            position, row["name_zh"], row["name_en"], row["weight"])
    for extra in list(challenge.criteria)[len(wanted):]:
        challenge.criteria.remove(extra)
    for position, row in enumerate(wanted[len(challenge.criteria):], start=len(challenge.criteria)):
        challenge.criteria.append(ChallengeCriterion(position=position, **row))


def _refuse(errors: dict):
    raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=errors)


def create(user, organization_id: int, data: dict, *, need_id: int | None = None) -> Challenge:
    """A draft challenge of one of the user's organisations (from scratch, or from a need of that organisation)."""
    org = db.session.get(Organization, organization_id) if organization_id else None
    if org is None or not access.is_member_of(user, org.id):
        raise NotFound(_l("No such organisation."))
    if not common.may_publish_for(user, org):
        raise PermissionDenied(_l("Hospitals, firms, sub-parks and the operator publish challenges; your "
                                  "organisation cannot."))
    need = None
    if need_id is not None:
        need = db.session.get(Need, need_id)
        if need is None or need.organization_id != org.id:
            raise NotFound(_l("This need does not exist or is not your organisation's."))
    values, errors = clean_challenge(data)
    nda = confidentiality.nda_from_form(data, errors)
    if values.get("deadline") and values["deadline"] <= common.now():
        errors.setdefault("deadline", _l("The deadline must be in the future."))
    if errors:
        _refuse(errors)
    parks = common.sub_parks_of(user)
    challenge = Challenge(organization_id=org.id, created_by_id=user.id, need_id=need.id if need else None,
                          status="draft", sub_park=org.sub_park if org.sub_park in parks else
                          (min(parks) if parks and org.kind not in common.CHALLENGER_KINDS else None))
    _apply(challenge, values)
    db.session.add(challenge)
    db.session.flush()
    if nda is not None:
        confidentiality.apply_nda(user, challenge, *nda)
    return challenge


def may_edit(user, challenge: Challenge) -> bool:
    return common.may_manage(user, challenge) and challenge.status in common.EDITABLE_STATUSES


def update(user, challenge: Challenge, data: dict, *, expected_version=None, keep_unsent: bool = False) -> Challenge:
    """Change a draft or sent-back challenge (its members, operators). ``keep_unsent``: fields left out of
    ``data`` keep their values (the API's PATCH)."""
    common.require_manage(user, challenge)
    challenge = versions.claim(challenge, expected_version)
    if challenge.status not in common.EDITABLE_STATUSES:
        raise Conflict(_l("Only a draft or a challenge sent back for changes can be edited; publish "
                          "clarifications by answering questions."))
    if keep_unsent:
        data = {**form_values(challenge, with_nda=False), **data}
    values, errors = clean_challenge(data)
    nda = confidentiality.nda_from_form(data, errors)
    if errors:
        _refuse(errors)
    _apply(challenge, values)
    db.session.flush()
    if nda is not None:
        confidentiality.apply_nda(user, challenge, *nda)
    return challenge


def form_values(challenge: Challenge, *, with_nda: bool = True) -> dict:
    """The challenge as the form (and a PATCH's defaults) read it."""
    data = {key: getattr(challenge, key) for key, _size in TEXT_FIELDS}
    data.update(award_min_rmb=challenge.award_min_rmb, award_max_rmb=challenge.award_max_rmb,
                eligible_kinds=list(challenge.eligible_kinds or []), consortium_allowed=challenge.consortium_allowed,
                timezone=challenge.timezone, field_codes=[f.code for f in challenge.fields],
                deadline=local(challenge.deadline, challenge.timezone).strftime("%Y-%m-%dT%H:%M")
                if challenge.deadline else "",
                milestone_plan=plan_text(challenge.milestone_plan),
                criteria=[{"name_zh": k.name_zh, "name_en": k.name_en, "weight": k.weight}
                          for k in challenge.criteria], version=challenge.version)
    if with_nda:
        data.update(confidentiality.nda_form_values(challenge))
    return data


def values_from_need(need: Need) -> dict:
    """A new challenge's form filled from a need ("publish as a challenge")."""
    return {"title_zh": need.title_zh, "title_en": need.title_en, "problem_zh": need.description_zh,
            "problem_en": need.description_en, "award_min_rmb": need.budget_min_rmb,
            "award_max_rmb": need.budget_max_rmb, "field_codes": [f.code for f in need.fields],
            "eligible_kinds": list(common.DEFAULT_ELIGIBLE_KINDS), "consortium_allowed": True,
            "timezone": DEFAULT_TZ}


def submit(user, challenge: Challenge) -> Challenge:
    """Send a draft (or sent-back) challenge to the operators for verification; it must be complete."""
    from marketplace.services import notifications
    common.require_manage(user, challenge)
    challenge = locks.lock_instance(challenge)
    if challenge.status not in common.EDITABLE_STATUSES:
        raise Conflict(_l("This challenge has already been submitted."))
    errors = {}
    if not (challenge.problem_zh or challenge.problem_en):
        errors["problem_zh"] = _l("Describe the problem.")
    if not challenge.criteria:
        errors["criteria"] = _l("Give at least one evaluation criterion with its weight.")
    if common.deadline_passed(challenge):
        errors["deadline"] = _l("The deadline must be in the future.")
    if errors:
        raise ValidationFailed(_l("The challenge is not complete yet: %(fields)s",
                                  fields=" ".join(str(v) for v in errors.values())), field_errors=errors)
    challenge.status = "submitted"
    challenge.submitted_at = common.now()
    db.session.flush()
    notifications.notify(notifications.operators(), "submission", "challenge_submitted",
                         dict(common.title_params(challenge), org=common.org_param(challenge.organization)),
                         common.challenge_path(challenge), dedupe_key=f"challenge_submitted:{challenge.id}:"
                         f"{challenge.version}", about=challenge)
    return challenge


def review_queue(user) -> list[Challenge]:
    """Challenges waiting for an operator, oldest first."""
    if not access.is_staff(user):
        raise PermissionDenied(_l("Only platform operators verify challenges."))
    return list(db.session.scalars(select(Challenge).where(Challenge.status == "submitted")
                                   .order_by(Challenge.submitted_at, Challenge.id)))


def decide(user, challenge: Challenge, decision: str, reason: str = "", *, remote_addr: str = "") -> Challenge:
    """An operator publishes, sends back (with a reason) or rejects (with a reason) a submitted challenge."""
    from marketplace.services import notifications
    if not access.is_staff(user):
        raise PermissionDenied(_l("Only platform operators verify challenges."))
    challenge = locks.lock_instance(challenge)
    if challenge.status != "submitted":
        raise Conflict(_l("This challenge is no longer waiting for verification; someone else may have just "
                          "decided it. Your decision was not recorded."))
    reason = (reason or "").strip()
    if decision not in DECISIONS:
        raise ValidationFailed(_l("Unknown decision."))
    if decision != "approve" and not reason:
        raise ValidationFailed(_l("Give the submitter a reason."), field_errors={"reason": _l("This field is required.")})
    if len(reason) > 2000:
        raise ValidationFailed(_l("At most %(n)d characters.", n=2000), field_errors={"reason": _l("Too long.")})
    if decision == "approve" and common.deadline_passed(challenge):
        raise Conflict(_l("The deadline of this challenge has passed; send it back so the challenger sets a new "
                          "one."))
    at = common.now()
    challenge.status = DECISIONS[decision]
    challenge.review_reason, challenge.reviewed_by_id, challenge.reviewed_at = reason, user.id, at
    if decision == "approve":
        challenge.published_at = at
    db.session.flush()
    audit.record(db.session, actor_id=user.id, action="verification", object_type="challenge",
                 object_id=challenge.id, organization_id=challenge.organization_id,
                 summary=f"{decision}: submitted -> {challenge.status}",
                 details={"decision": decision, "from": "submitted", "to": challenge.status, "reason": reason[:500]},
                 remote_addr=remote_addr)
    deadline = local(challenge.deadline, challenge.timezone).strftime("%Y-%m-%d %H:%M")
    notifications.notify(notifications.members_of(challenge.organization_id), "challenge_review",
                         MESSAGE_OF[decision], dict(common.title_params(challenge), reason=reason,
                                                    deadline=f"{deadline} ({challenge.timezone})"),
                         common.challenge_path(challenge), about=challenge)
    return challenge


def withdraw(user, challenge: Challenge) -> Challenge:
    """The challenger takes the challenge back before the award; it leaves the public list."""
    common.require_manage(user, challenge)
    challenge = locks.lock_instance(challenge)
    if challenge.status not in common.WITHDRAWABLE_STATUSES:
        raise Conflict(_l("An awarded, rejected or withdrawn challenge cannot be withdrawn."))
    challenge.status = "withdrawn"
    challenge.withdrawn_at = common.now()
    db.session.flush()
    return challenge


def close_due(at=None) -> int:
    """Close the published challenges whose deadline has passed (the job's sweep); returns how many."""
    at = at or common.now()
    due = list(db.session.scalars(select(Challenge).where(Challenge.status == "published",
                                                          Challenge.deadline <= at).with_for_update()))
    for challenge in due:
        challenge.status, challenge.closed_at = "closed", at
    db.session.flush()
    return len(due)


"""Proposals: one lead organisation (labs, universities, institutes, firms as the challenge allows) with consortium
members, a draft until submitted, editable and withdrawable until the deadline, refused after it (aware instants,
so the challenge's time zone cannot move the deadline). Seen only by their own organisations, the challenger,
the panel and operators (``visibility.PROPOSAL_OPEN``). Services only flush."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace import visibility
from marketplace.extensions import db
from marketplace.models import Challenge, ChallengeProposal, Organization, StoredFile
from marketplace.models.challenges import challenge_proposal_files
from marketplace.services import access, audit, locks, uploads, versions
from marketplace.services.challenges import common
from marketplace.services.challenges.publishing import parse_plan, plan_text
from marketplace.services.cleaning import Cleaner, parse_id
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

MAX_MEMBERS = 10
MAX_FILES = 10
EDITABLE = ("draft", "submitted")
NOT_FOUND = _l("This proposal does not exist.")


def get_proposal(user, proposal_id: int, challenge: Challenge | None = None) -> ChallengeProposal:
    """The proposal ``user`` may open (of ``challenge`` when given), or NotFound — never another solver's."""
    proposal = db.session.get(ChallengeProposal, proposal_id)
    if proposal is None or (challenge is not None and proposal.challenge_id != challenge.id) \
            or not visibility.can_open(user, proposal):
        raise NotFound(NOT_FOUND)
    return proposal


def is_solver(user, proposal: ChallengeProposal) -> bool:
    """A member of the lead organisation: they edit, submit and withdraw."""
    return getattr(user, "is_authenticated", False) and access.is_member_of(user, proposal.lead_organization_id)


def may_edit(user, proposal: ChallengeProposal) -> bool:
    return is_solver(user, proposal) and proposal.status in EDITABLE and \
        common.accepts_submissions(proposal.challenge)


def lead_choices(user, challenge: Challenge) -> list[Organization]:
    """The user's organisations that may lead a proposal to this challenge."""
    if not getattr(user, "is_authenticated", False):
        return []
    kinds = common.eligible_kinds(challenge)
    return [o for o in user.organizations if o.kind in kinds and o.id != challenge.organization_id]


def clean_proposal(challenge: Challenge, lead_id: int, data: dict) -> tuple[dict, dict]:
    c = Cleaner(data)
    c.text("title", max_length=300)
    c.text("approach", max_length=20000)
    c.text("team", max_length=5000)
    c.decimal("budget_rmb")
    plan, problem = parse_plan(data.get("milestones"))
    if problem:
        c.error("milestones", problem)
    c.values["milestones"] = plan
    raw = data.get("member_ids") or []
    ids = [parse_id(v) for v in (raw if isinstance(raw, list) else str(raw).replace(",", " ").split())]
    if any(i is None for i in ids):
        c.error("member_ids", _l("Choose consortium members from the list."))
    ids = sorted({i for i in ids if i is not None and i != lead_id})
    if ids and not challenge.consortium_allowed:
        c.error("member_ids", _l("This challenge does not accept consortia."))
    if len(ids) > MAX_MEMBERS:
        c.error("member_ids", _l("At most %(n)d items.", n=MAX_MEMBERS))
    members = list(db.session.scalars(select(Organization).where(Organization.id.in_(ids)))) if ids else []
    if len(members) != len(ids) or any(o.id == challenge.organization_id for o in members):
        c.error("member_ids", _l("Choose consortium members from the list."))
    c.values["members"] = members
    return c.values, c.errors


def _apply(proposal: ChallengeProposal, values: dict) -> None:
    for key in ("title", "approach", "team", "budget_rmb", "milestones"):
        setattr(proposal, key, values[key])
    proposal.members = values["members"]


def start(user, challenge: Challenge, lead_organization_id: int, data: dict) -> ChallengeProposal:
    """Start (or, for the same lead organisation, return) the draft proposal; idempotent and safe when sent twice
    at once: the challenge row is locked, and the unique key (challenge, lead) holds."""
    common.require_view(user, challenge)
    lead = next((o for o in lead_choices(user, challenge) if o.id == lead_organization_id), None)
    if lead is None:
        if any(o.id == lead_organization_id for o in getattr(user, "organizations", [])):
            raise PermissionDenied(_l("Organisations of this kind may not lead a proposal to this challenge."))
        raise NotFound(_l("No such organisation."))
    common.require_open_for_submissions(challenge)
    values, errors = clean_proposal(challenge, lead.id, data)
    if errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=errors)
    challenge = locks.lock_instance(challenge)
    existing = db.session.scalar(select(ChallengeProposal).where(ChallengeProposal.challenge_id == challenge.id,
                                                                 ChallengeProposal.lead_organization_id == lead.id))
    if existing is not None:
        if existing.status == "withdrawn":  # taken back before the deadline: it becomes a draft again
            existing.status, existing.withdrawn_at = "draft", None
            existing.version = (existing.version or 0) + 1
            db.session.flush()
        return existing
    proposal = ChallengeProposal(challenge_id=challenge.id, lead_organization_id=lead.id, created_by_id=user.id,
                                 status="draft")
    _apply(proposal, values)
    db.session.add(proposal)
    db.session.flush()
    common.register_solver(user, challenge, "proposal")
    return proposal


def update(user, proposal: ChallengeProposal, data: dict, *, expected_version=None,
           keep_unsent: bool = False) -> ChallengeProposal:
    """Change a draft or submitted proposal before the deadline (members of the lead organisation)."""
    if not is_solver(user, proposal):
        raise PermissionDenied(_l("Only the lead organisation's members change the proposal."))
    proposal = versions.claim(proposal, expected_version)
    common.require_open_for_submissions(proposal.challenge)
    if proposal.status not in EDITABLE:
        raise Conflict(_l("A withdrawn proposal cannot be changed; start it again."))
    if keep_unsent:
        data = {**form_values(proposal), **data}
    values, errors = clean_proposal(proposal.challenge, proposal.lead_organization_id, data)
    if errors:
        raise ValidationFailed(_l("Please correct the highlighted fields."), field_errors=errors)
    _apply(proposal, values)
    db.session.flush()
    return proposal


def form_values(proposal: ChallengeProposal) -> dict:
    return {"title": proposal.title, "approach": proposal.approach, "team": proposal.team,
            "budget_rmb": proposal.budget_rmb, "milestones": plan_text(proposal.milestones),
            "member_ids": [o.id for o in proposal.members], "version": proposal.version}


def submit(user, proposal: ChallengeProposal) -> ChallengeProposal:
    """Submit a draft before the deadline; the challenger's members are told."""
    if not is_solver(user, proposal):
        raise PermissionDenied(_l("Only the lead organisation's members submit the proposal."))
    proposal = locks.lock_instance(proposal)
    common.require_open_for_submissions(proposal.challenge)
    if proposal.status == "submitted":
        return proposal  # a second click: already done
    if proposal.status != "draft":
        raise Conflict(_l("Only a draft proposal can be submitted."))
    errors = {}
    if not proposal.title:
        errors["title"] = _l("This field is required.")
    if not proposal.approach:
        errors["approach"] = _l("This field is required.")
    if errors:
        raise ValidationFailed(_l("Give the proposal a title and describe the approach before submitting it."),
                               field_errors=errors)
    proposal.status, proposal.submitted_at = "submitted", common.now()
    db.session.flush()
    _tell_challenger(proposal, "proposal_submitted")
    return proposal


def withdraw(user, proposal: ChallengeProposal) -> ChallengeProposal:
    """Withdraw a draft or submitted proposal before the deadline."""
    if not is_solver(user, proposal):
        raise PermissionDenied(_l("Only the lead organisation's members withdraw the proposal."))
    proposal = locks.lock_instance(proposal)
    common.require_open_for_submissions(proposal.challenge)
    if proposal.status not in EDITABLE:
        raise Conflict(_l("Only a draft or submitted proposal can be withdrawn."))
    was_submitted = proposal.status == "submitted"
    proposal.status, proposal.withdrawn_at = "withdrawn", common.now()
    db.session.flush()
    if was_submitted:
        _tell_challenger(proposal, "proposal_withdrawn")
    return proposal


def _tell_challenger(proposal: ChallengeProposal, key: str) -> None:
    from marketplace.services import notifications
    challenge = proposal.challenge
    notifications.notify(notifications.members_of(challenge.organization_id), "challenge_question", key,
                         dict(common.title_params(challenge), org=common.org_param(proposal.lead_organization),
                              proposal=proposal.title),
                         f"{common.challenge_path(challenge)}/proposals/{proposal.id}", about=proposal)


# --- attachments (the upload rules: detected type, size per purpose) ------------------------------------------

def files_of(proposal: ChallengeProposal) -> list[StoredFile]:
    return list(db.session.scalars(select(StoredFile).join(
        challenge_proposal_files, challenge_proposal_files.c.file_id == StoredFile.id).where(
        challenge_proposal_files.c.proposal_id == proposal.id).order_by(StoredFile.id)))


def attach(user, proposal: ChallengeProposal, filename: str, data: bytes, store: uploads.FileStore, *,
           remote_addr: str = "") -> StoredFile:
    """Attach a file to a proposal that may still be edited."""
    if not may_edit(user, proposal):
        raise PermissionDenied(_l("Only the lead organisation's members change the proposal, before the deadline."))
    proposal = locks.lock_instance(proposal)
    if len(files_of(proposal)) >= MAX_FILES:
        raise ValidationFailed(_l("At most %(n)d items.", n=MAX_FILES), field_errors={"file": _l("Too many files.")})
    checked = uploads.check_file("attachment", filename, data, store)
    stored = uploads.store_file(user, checked, "attachment", proposal.lead_organization_id, store)
    db.session.execute(challenge_proposal_files.insert().values(proposal_id=proposal.id, file_id=stored.id))
    audit.record(db.session, actor_id=audit.actor_of(user), action="upload", object_type="challenge",
                 object_id=proposal.challenge_id, organization_id=proposal.lead_organization_id,
                 summary=f"added proposal file {stored.original_name!r} ({stored.size} bytes)",
                 details={"proposal_id": proposal.id, "file_id": stored.id, "sha256": stored.sha256},
                 remote_addr=remote_addr)
    return stored


def open_file(user, proposal: ChallengeProposal, file_id: int, store: uploads.FileStore):
    """(the stored file, its path) for someone who may open the proposal, or NotFound."""
    stored = next((f for f in files_of(proposal) if f.id == file_id), None)
    if stored is None or not visibility.can_open(user, proposal):
        raise NotFound(_l("This file does not exist."))
    return stored, uploads.path_of(stored, store)

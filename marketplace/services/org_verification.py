"""Verification of organisations: the owner sends the unified social credit code and the business licence, an
operator approves (the organisation becomes "verified", with a badge wherever it appears) or rejects with a reason.

The licence is an upload with purpose ``licence``: kept privately and served only to the organisation's owners
and to operators. Services only flush.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.identifiers import is_valid_uscc, normalise_uscc
from marketplace.links import path_for
from marketplace.models import Organization, OrganizationVerification, StoredFile
from marketplace.services import access, audit, locks, notifications, uploads
from marketplace.services.cleaning import CONTROL_CHARS, drop_lone_surrogates, parse_id
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.services.organizations import is_owner

DECISIONS = {"approve": "approved", "reject": "rejected"}
REASON_LIMIT = 2000


def _now() -> datetime:
    return datetime.now(timezone.utc)


def can_request(user, org: Organization) -> bool:
    """Owners ask for their organisation to be verified (operators decide, they do not ask)."""
    return is_owner(user, org)


def can_see_requests(user, org: Organization) -> bool:
    """The requests and their licences: the organisation's owners and operators."""
    return access.is_staff(user) or is_owner(user, org)


def pending_request(org_id: int) -> OrganizationVerification | None:
    return db.session.scalar(select(OrganizationVerification).where(
        OrganizationVerification.organization_id == org_id, OrganizationVerification.status == "pending").limit(1))


def _uscc_taken(uscc: str, org_id: int) -> bool:
    return db.session.scalar(select(Organization.id).where(Organization.uscc == uscc,
                                                           Organization.id != org_id)) is not None


def submit(user, org: Organization, uscc: str, filename: str, data: bytes, store: uploads.FileStore, *,
           remote_addr: str = "") -> OrganizationVerification:
    """Ask for verification with the credit code and the business licence (PDF or image). Only flushes."""
    if not can_request(user, org):
        raise PermissionDenied(_l("Only the organisation's owners ask for its verification."))
    org = locks.lock(Organization, org.id)
    if org.verified:
        raise Conflict(_l("This organisation is already verified."))
    if pending_request(org.id) is not None:
        raise Conflict(_l("A verification request is already waiting for an operator."))
    code = normalise_uscc(str(uscc or "")[:100])
    if not is_valid_uscc(code):
        message = _l("This unified social credit code is not valid (18 characters; check character mismatch).")
        raise ValidationFailed(message, field_errors={"uscc": message})
    if _uscc_taken(code, org.id):
        message = _l("An organisation with this credit code is already registered.")
        raise Conflict(message, field_errors={"uscc": message})
    checked = uploads.check_file("licence", filename, data, store)
    stored = uploads.store_file(user, checked, "licence", org.id, store)
    request = OrganizationVerification(organization_id=org.id, uscc=code, licence_file_id=stored.id,
                                       status="pending", submitted_by_id=user.id, submitted_at=_now(), reason="")
    db.session.add(request)
    db.session.flush()
    audit.record(db.session, actor_id=user.id, action="verification", object_type="organization", object_id=org.id,
                 organization_id=org.id, summary=f"verification requested ({code})",
                 details={"decision": "request", "request_id": request.id, "uscc": code, "file_id": stored.id,
                          "file": stored.original_name, "size": stored.size}, remote_addr=remote_addr)
    notifications.verification_requested(request, org, user)
    return request


def queue(user) -> list[OrganizationVerification]:
    """Requests waiting for an operator, oldest first."""
    if not access.is_staff(user):
        raise PermissionDenied(_l("Only platform operators may do this."))
    return list(db.session.scalars(select(OrganizationVerification).where(
        OrganizationVerification.status == "pending").order_by(OrganizationVerification.submitted_at,
                                                               OrganizationVerification.id)))


def get_request(user, request_id) -> OrganizationVerification:
    """A request its organisation's owners or an operator may see, else NotFound."""
    request = db.session.get(OrganizationVerification, parse_id(request_id) or 0)
    if request is None or not can_see_requests(user, request.organization):
        raise NotFound(_l("This verification request does not exist."))
    return request


def history(org_id: int) -> list[OrganizationVerification]:
    return list(db.session.scalars(select(OrganizationVerification).where(
        OrganizationVerification.organization_id == org_id).order_by(OrganizationVerification.submitted_at.desc(),
                                                                     OrganizationVerification.id.desc())))


def decide(user, request: OrganizationVerification, decision: str, reason: str = "", *,
           remote_addr: str = "") -> OrganizationVerification:
    """Approve (the organisation is verified and takes the credit code) or reject with a reason. Only flushes."""
    if not access.is_staff(user):
        raise PermissionDenied(_l("Only platform operators may do this."))
    if decision not in DECISIONS:
        raise ValidationFailed(_l("Unknown decision."), field_errors={"decision": _l("Choose one.")})
    reason = drop_lone_surrogates(CONTROL_CHARS.sub("", str(reason or ""))).strip()
    if decision == "reject" and not reason:
        raise ValidationFailed(_l("Give the organisation a reason."),
                               field_errors={"reason": _l("This field is required.")})
    if len(reason) > REASON_LIMIT:
        raise ValidationFailed(_l("At most %(n)d characters.", n=REASON_LIMIT), field_errors={"reason": _l("Too long.")})
    org = locks.lock(Organization, request.organization_id)
    db.session.refresh(request)
    if request.status != "pending":
        raise Conflict(_l("This request was already decided."))
    if decision == "approve":
        if _uscc_taken(request.uscc, org.id):
            raise Conflict(_l("An organisation with this credit code is already registered."))
        org.uscc, org.verified = request.uscc, True
    request.status, request.reason = DECISIONS[decision], reason
    request.decided_by_id, request.decided_at = user.id, _now()
    db.session.flush()
    audit.record(db.session, actor_id=user.id, action="verification", object_type="organization", object_id=org.id,
                 organization_id=org.id, summary=f"organisation {decision}: {request.uscc}",
                 details={"decision": decision, "request_id": request.id, "reason": reason[:500]},
                 remote_addr=remote_addr)
    owners = notifications.owners_of(org.id)
    notifications.notify(owners, "organization", f"verification_{DECISIONS[decision]}",
                         {"org": notifications.bilingual(org, "name"), "reason": reason},
                         path_for("organizations.verification", org_id=org.id))
    return request


def open_licence(user, request_id, store: uploads.FileStore) -> tuple[StoredFile, Path]:
    """The licence of a request and its path, for the organisation's owners and operators (NotFound otherwise)."""
    request = get_request(user, request_id)
    stored = db.session.get(StoredFile, request.licence_file_id or 0)
    if stored is None or stored.purpose != "licence" or stored.organization_id != request.organization_id:
        raise NotFound(_l("This file does not exist."))
    path = uploads.path_of(stored, store)
    if not path.is_file():
        raise NotFound(_l("This file does not exist."))
    return stored, path

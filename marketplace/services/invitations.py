"""Invitations: an owner asks a colleague, by e-mail address, to join the organisation.

The link carries a random token; only its SHA-256 is stored. The link works once, for ``expiry_days``, for the
person who holds it (logged in, or after registering); a used, withdrawn, expired or made-up link changes
nothing and says why. People who already have an account also find the invitations addressed to their e-mail
on their account page. The e-mail is sent by a job after the commit (``INVITATION_EMAIL_JOB``). Services only flush.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from marketplace import jobs
from marketplace.extensions import db
from marketplace.models import Membership, Organization, OrganizationInvitation, User
from marketplace.models.organizations import INVITATION_ROLES
from marketplace.services import audit
from marketplace.services.accounts import normalise_email
from marketplace.services.cleaning import parse_id
from marketplace.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from marketplace.services.organizations import can_manage_members

INVITATION_EMAIL_JOB = "organizations.send_invitation"
MAX_OPEN_INVITATIONS = 50  # per organisation
TOKEN_MAX_LENGTH = 100


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "ignore")).hexdigest()


def is_expired(invitation: OrganizationInvitation, now: datetime | None = None) -> bool:
    return _aware(invitation.expires_at) <= (now or _now())


def invite(user, org: Organization, email: str, role: str = "member", *, expiry_days: int, lang: str = "zh",
           remote_addr: str = "", now: datetime | None = None) -> tuple[OrganizationInvitation, str]:
    """Invite ``email`` into ``org`` as owner or member (owners, operators); returns the invitation and the secret
    token (for the e-mail only). An earlier open invitation of the same address is withdrawn. Only flushes."""
    if not can_manage_members(user, org):
        raise PermissionDenied(_l("Only the organisation's owners and operators invite people."))
    if role not in INVITATION_ROLES:
        raise ValidationFailed(_l("Choose owner or member."), field_errors={"role": _l("Choose owner or member.")})
    email = normalise_email(email)
    if len(email) > 200:
        raise ValidationFailed(_l("Enter a valid e-mail address."),
                               field_errors={"email": _l("Enter a valid e-mail address.")})
    now = now or _now()
    member = db.session.scalar(select(Membership.id).join(User, User.id == Membership.user_id).where(
        Membership.organization_id == org.id, User.email == email))
    if member is not None:
        raise Conflict(_l("%(email)s already belongs to this organisation.", email=email),
                       field_errors={"email": _l("Already a member.")})
    open_ = OrganizationInvitation.accepted_at.is_(None), OrganizationInvitation.revoked_at.is_(None)
    for old in db.session.scalars(select(OrganizationInvitation).where(
            OrganizationInvitation.organization_id == org.id, OrganizationInvitation.email == email, *open_)):
        old.revoked_at = now
    waiting = db.session.scalar(select(func.count(OrganizationInvitation.id)).where(
        OrganizationInvitation.organization_id == org.id, OrganizationInvitation.expires_at > now, *open_)) or 0
    if waiting >= MAX_OPEN_INVITATIONS:
        raise Conflict(_l("This organisation has %(n)d invitations waiting; withdraw some first.",
                          n=MAX_OPEN_INVITATIONS))
    token = secrets.token_urlsafe(32)
    invitation = OrganizationInvitation(organization_id=org.id, email=email, role=role, token_hash=token_hash(token),
                                        invited_by_id=audit.actor_of(user), expires_at=now + timedelta(days=expiry_days))
    db.session.add(invitation)
    db.session.flush()
    audit.record(db.session, actor_id=audit.actor_of(user), action="organization", object_type="organization",
                 object_id=org.id, organization_id=org.id, summary=f"invited {email} as {role}",
                 details={"change": "invited", "invitation_id": invitation.id, "email": email, "role": role},
                 remote_addr=remote_addr)
    jobs.enqueue(db.session, INVITATION_EMAIL_JOB, invitation_id=invitation.id, token=token,
                 lang="en" if (lang or "").startswith("en") else "zh")
    return invitation, token


def _usable(invitation: OrganizationInvitation | None, now: datetime) -> OrganizationInvitation:
    """The invitation if its link may still be used, else a clear refusal (nothing changes)."""
    if invitation is None:
        raise NotFound(_l("This invitation link is not valid. Check that you copied all of it, or ask for a new "
                          "invitation."))
    if invitation.accepted_at is not None:
        raise Conflict(_l("This invitation was already used. Ask the organisation's owners for a new one if you "
                          "still need to join."))
    if invitation.revoked_at is not None:
        raise Conflict(_l("This invitation was withdrawn by the organisation."))
    if is_expired(invitation, now):
        raise Conflict(_l("This invitation expired on %(date)s. Ask the organisation's owners for a new one.",
                          date=_aware(invitation.expires_at).date().isoformat()))
    return invitation


def by_token(token: str, *, now: datetime | None = None, lock: bool = False) -> OrganizationInvitation:
    """The invitation behind a link's token, if it can still be used (else NotFound or Conflict saying why)."""
    token = (token or "").strip()
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return _usable(None, now or _now())
    query = select(OrganizationInvitation).where(OrganizationInvitation.token_hash == token_hash(token))
    invitation = db.session.scalar(query.with_for_update() if lock else query)
    return _usable(invitation, now or _now())


def _accept(user, invitation: OrganizationInvitation, now: datetime, remote_addr: str) -> Membership:
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_l("Log in or register to accept the invitation."))
    if invitation.organization_id in user.org_ids:
        raise Conflict(_l("You already belong to this organisation."))
    membership = Membership(user_id=user.id, organization_id=invitation.organization_id, role=invitation.role)
    db.session.add(membership)
    invitation.accepted_at, invitation.accepted_by_id = now, user.id
    db.session.flush()
    audit.record(db.session, actor_id=user.id, action="organization", object_type="organization",
                 object_id=invitation.organization_id, organization_id=invitation.organization_id,
                 summary=f"invitation {invitation.id} accepted as {invitation.role}",
                 details={"change": "joined", "invitation_id": invitation.id, "role": invitation.role,
                          "invited_email": invitation.email}, remote_addr=remote_addr)
    db.session.expire(user, ["memberships"])
    return membership


def accept(user, token: str, *, now: datetime | None = None, remote_addr: str = "") -> Membership:
    """Join the organisation with the link's token (whoever holds the link: the address may differ from the
    account's). Used, withdrawn, expired and unknown tokens are refused. Only flushes."""
    now = now or _now()
    return _accept(user, by_token(token, now=now, lock=True), now, remote_addr)


def addressed_to(user, *, now: datetime | None = None) -> list[OrganizationInvitation]:
    """Open, unexpired invitations sent to the user's own e-mail address (for the account page)."""
    if not getattr(user, "is_authenticated", False) or not user.email:
        return []
    return list(db.session.scalars(select(OrganizationInvitation).where(
        func.lower(OrganizationInvitation.email) == user.email.lower(),
        OrganizationInvitation.accepted_at.is_(None), OrganizationInvitation.revoked_at.is_(None),
        OrganizationInvitation.expires_at > (now or _now()),
        OrganizationInvitation.organization_id.not_in(user.org_ids or {0}))
        .order_by(OrganizationInvitation.created_at.desc()).limit(50)))


def accept_addressed(user, invitation_id, *, now: datetime | None = None, remote_addr: str = "") -> Membership:
    """Accept an invitation sent to the user's own e-mail address, from the account page."""
    now = now or _now()
    invitation = db.session.get(OrganizationInvitation, parse_id(invitation_id) or 0, with_for_update=True)
    if invitation is None or not getattr(user, "is_authenticated", False) or \
            invitation.email.lower() != (user.email or "").lower():
        raise NotFound(_l("This invitation link is not valid. Check that you copied all of it, or ask for a new "
                          "invitation."))
    return _accept(user, _usable(invitation, now), now, remote_addr)


def revoke(user, org: Organization, invitation_id, *, remote_addr: str = "",
           now: datetime | None = None) -> OrganizationInvitation:
    """Withdraw an invitation that was not used yet (owners, operators)."""
    if not can_manage_members(user, org):
        raise PermissionDenied(_l("Only the organisation's owners and operators invite people."))
    invitation = db.session.get(OrganizationInvitation, parse_id(invitation_id) or 0)
    if invitation is None or invitation.organization_id != org.id:
        raise NotFound(_l("This invitation does not exist."))
    if not invitation.is_open:
        raise Conflict(_l("This invitation was already used or withdrawn."))
    invitation.revoked_at = now or _now()
    db.session.flush()
    audit.record(db.session, actor_id=audit.actor_of(user), action="organization", object_type="organization",
                 object_id=org.id, organization_id=org.id, summary=f"invitation {invitation.id} withdrawn",
                 details={"change": "invitation_withdrawn", "invitation_id": invitation.id,
                          "email": invitation.email}, remote_addr=remote_addr)
    return invitation

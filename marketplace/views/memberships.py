"""Members of an organisation: the list, invitations by e-mail, roles, removal, leaving, and the invitation link."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.i18n import current_lang
from marketplace.queries import organizations as organizations_q
from marketplace.services import invitations
from marketplace.services import organizations as org_service
from marketplace.services.errors import DomainError
from marketplace.services.unit_of_work import unit_of_work
from marketplace.settings import current_settings
from marketplace.views.helpers import abort_for, flash_domain_error
from marketplace.vocabulary import options

bp = Blueprint("memberships", __name__, url_prefix="/orgs")


def _org(org_id: int):
    try:
        return organizations_q.get_organization(org_id)
    except DomainError as exc:
        abort(exc.http_status)


def _managed_org(org_id: int):
    """The organisation, for its owners and operators only (403 for everybody else)."""
    org = _org(org_id)
    if not org_service.can_manage_members(current_user, org):
        abort(403)
    return org


def _addr() -> str:
    return request.remote_addr or ""


def _members_page(org, errors=None, data=None, status=200):
    return render_template("organizations/members.html", org=org, members=organizations_q.members(org.id),
                           invitations=organizations_q.open_invitations(org.id), errors=errors or {},
                           data=data or {"role": "member"}, roles=options("membership_role")), status


@bp.route("/<int:org_id>/members")
@login_required
def members(org_id: int):
    """Members with their roles, the invitations waiting, and the invitation form (owners, operators)."""
    return _members_page(_managed_org(org_id))


@bp.route("/<int:org_id>/invitations", methods=["POST"])
@login_required
def invite(org_id: int):
    """Invite a colleague by e-mail; the link goes out by e-mail after the commit."""
    org = _managed_org(org_id)
    data = {"email": request.form.get("email", ""), "role": request.form.get("role", "member")}
    try:
        with unit_of_work():
            invitation, _token = invitations.invite(
                current_user, org, data["email"], data["role"], expiry_days=current_settings().invitation_expiry_days,
                lang=current_lang(), remote_addr=_addr())
            email = invitation.email
    except DomainError as exc:
        if exc.http_status in (403, 404):
            abort_for(exc)
        return _members_page(org, flash_domain_error(exc), data, 400 if exc.http_status != 409 else 409)
    flash(_("Invitation sent to %(email)s.", email=email), "success")
    return redirect(url_for("memberships.members", org_id=org.id))


def _change_members(org_id: int, change, success: str, category: str = "success"):
    """Run one change to an organisation's members in a unit of work; 403/404 abort, other errors flash."""
    org = _managed_org(org_id)
    try:
        with unit_of_work():
            change(org)
    except DomainError as exc:
        if exc.http_status in (403, 404):
            abort_for(exc)
        flash_domain_error(exc)
    else:
        flash(success, category)
    return redirect(url_for("memberships.members", org_id=org.id))


@bp.route("/<int:org_id>/invitations/<int:invitation_id>/revoke", methods=["POST"])
@login_required
def revoke_invitation(org_id: int, invitation_id: int):
    return _change_members(org_id, lambda org: invitations.revoke(current_user, org, invitation_id,
                                                                  remote_addr=_addr()),
                           _("Invitation withdrawn."), "info")


@bp.route("/<int:org_id>/members/<int:membership_id>/role", methods=["POST"])
@login_required
def change_role(org_id: int, membership_id: int):
    return _change_members(org_id, lambda org: org_service.change_role(
        current_user, org, membership_id, request.form.get("role", ""), remote_addr=_addr()), _("Role changed."))


@bp.route("/<int:org_id>/members/<int:membership_id>/remove", methods=["POST"])
@login_required
def remove(org_id: int, membership_id: int):
    return _change_members(org_id, lambda org: org_service.remove_member(current_user, org, membership_id,
                                                                         remote_addr=_addr()),
                           _("Member removed."), "info")


@bp.route("/<int:org_id>/leave", methods=["POST"])
@login_required
def leave(org_id: int):
    """Leave the organisation (refused to its last owner)."""
    org = _org(org_id)
    try:
        with unit_of_work():
            org_service.leave(current_user, org, remote_addr=_addr())
    except DomainError as exc:
        if exc.http_status in (403, 404):
            abort_for(exc)
        flash_domain_error(exc)
        return redirect(url_for("account.dashboard"))
    flash(_("You left %(org)s.", org=org.name(current_lang())), "info")
    return redirect(url_for("account.dashboard"))


# --- the invitation link ------------------------------------------------------------------------------------

@bp.route("/join/<token>", methods=["GET", "POST"])
@login_required
def invitation(token: str):
    """The link from the e-mail: who invites, into what, as what; accepting joins the organisation.
    Visitors log in (or register) first and come back here."""
    if request.method == "POST":
        try:
            with unit_of_work():
                membership = invitations.accept(current_user, token, remote_addr=_addr())
                org_id = membership.organization_id
        except DomainError as exc:
            if exc.http_status == 404:
                abort_for(exc)
            return render_template("organizations/invitation.html", invitation=None, error=str(exc.message)), \
                exc.http_status
        flash(_("Welcome: you are now a member of this organisation."), "success")
        return redirect(url_for("organizations.profile", org_id=org_id))
    try:
        found = invitations.by_token(token)
    except DomainError as exc:
        if exc.http_status == 404:
            abort_for(exc)
        return render_template("organizations/invitation.html", invitation=None, error=str(exc.message)), \
            exc.http_status
    return render_template("organizations/invitation.html", invitation=found, error=None,
                           already=found.organization_id in current_user.org_ids)

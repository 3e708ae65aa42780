"""The member's own area: dashboard with their organisations, offers and needs; creating or joining an
organisation; their contact details for introductions; API tokens; password and signed-in browsers."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from marketplace.queries import catalogue as catalogue_q
from marketplace.queries import needs as needs_q
from marketplace.queries import organizations as organizations_q
from marketplace.queries import sessions as sessions_q
from marketplace.services import accounts, api_tokens, invitations, sessions
from marketplace.services import organizations as org_service
from marketplace.services.errors import DomainError
from marketplace.services.unit_of_work import unit_of_work
from marketplace.views.helpers import abort_for, flash_domain_error, form_dict
from marketplace.vocabulary import options

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/")
@login_required
def dashboard():
    org_ids = current_user.org_ids
    offers = catalogue_q.offers_of_organizations(org_ids, limit=50)
    needs = needs_q.needs_of_organizations(org_ids, limit=50)
    from marketplace.services import matching
    return render_template("account/dashboard.html", offers=offers, needs=needs,
                           funders=matching.funders_for_organization(current_user, org_ids),
                           invitations=invitations.addressed_to(current_user))


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    """Personal access tokens for the API: create (the secret is shown once) and list."""
    errors, data, secret = {}, {}, None
    if request.method == "POST":
        data = form_dict(request.form)
        try:
            with unit_of_work():
                _token, secret = api_tokens.create_token(current_user, data)
        except DomainError as exc:
            errors = flash_domain_error(exc)
        else:
            data = {}
            flash(_("Token created. Copy it now: it will not be shown again."), "success")
    return render_template("account/tokens.html", tokens=api_tokens.active_tokens(current_user), secret=secret,
                           data=data, errors=errors)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    """Revoke one of your tokens; calls with it fail at once."""
    try:
        with unit_of_work():
            api_tokens.revoke_token(current_user, token_id)
    except DomainError as exc:
        abort_for(exc)
    flash(_("Token revoked."), "success")
    return redirect(url_for("account.tokens"))


# --- organisations: create one, join by invitation, own contact details ----------------------------------------

def _new_organization(form) -> accounts.NewOrganization:
    return accounts.NewOrganization(kind=form.get("org_kind", ""), name_zh=form.get("org_name_zh", ""),
                                    name_en=form.get("org_name_en", ""), uscc=(form.get("org_uscc", "") or "")[:100])


@bp.route("/organization/new", methods=["GET", "POST"])
@login_required
def create_organization():
    """A registered user without (or with) an organisation creates one and becomes its owner."""
    errors, data = {}, {}
    if request.method == "POST":
        data = form_dict(request.form)
        try:
            with unit_of_work():
                org = accounts.create_organization(current_user, _new_organization(request.form))
                org_id = org.id
        except DomainError as exc:
            errors = flash_domain_error(exc)
        else:
            flash(_("Organisation created: you are its owner."), "success")
            return redirect(url_for("organizations.profile", org_id=org_id))
    kinds = [(k, v) for k, v in options("org_kind") if k != "operator"]
    return render_template("account/organization_new.html", data=data, errors=errors, kinds=kinds), \
        (400 if errors else 200)


@bp.route("/invitations", methods=["GET", "POST"])
@login_required
def invitations_page():
    """"I have an invitation": the invitations sent to the account's address, and a field for a link or code."""
    if request.method == "POST":
        code = (request.form.get("link") or "").strip().rstrip("/").rsplit("/", 1)[-1][:200]
        if not code:
            flash(_("Paste the link from the invitation e-mail."), "danger")
        else:
            return redirect(url_for("memberships.invitation", token=code))
    return render_template("account/invitations.html", invitations=invitations.addressed_to(current_user))


@bp.route("/invitations/<int:invitation_id>/accept", methods=["POST"])
@login_required
def accept_invitation(invitation_id: int):
    """Accept an invitation sent to the account's own e-mail address."""
    try:
        with unit_of_work():
            membership = invitations.accept_addressed(current_user, invitation_id, remote_addr=request.remote_addr or "")
            org_id = membership.organization_id
    except DomainError as exc:
        if exc.http_status in (403, 404):
            abort_for(exc)
        flash_domain_error(exc)
        return redirect(url_for("account.invitations_page"))
    flash(_("Welcome: you are now a member of this organisation."), "success")
    return redirect(url_for("organizations.profile", org_id=org_id))


@bp.route("/contact/<int:org_id>", methods=["POST"])
@login_required
def contact(org_id: int):
    """Your own e-mail and phone for introductions on behalf of one of your organisations."""
    try:
        with unit_of_work():
            org = organizations_q.get_organization(org_id)
            org_service.set_contact(current_user, org, form_dict(request.form))
    except DomainError as exc:
        if exc.http_status in (403, 404):
            abort_for(exc)
        flash_domain_error(exc)
    else:
        flash(_("Your contact details for introductions are saved."), "success")
    return redirect(url_for("account.dashboard") + "#my-organisations")
# --- sign-in and security: password, where you are signed in ------------------------------------------------

@bp.route("/security")
@login_required
def security():
    """Change the password; see the browsers signed in to this account and end any of them."""
    return _security_page({}, {})


def _security_page(errors: dict, data: dict, status: int = 200):
    rows = sessions_q.active_sessions(current_user, max_age=current_app.config["REMEMBER_COOKIE_DURATION"])
    return render_template("account/security.html", sessions=rows, current_id=current_user.current_session_id,
                           errors=errors, data=data), status


@bp.route("/password", methods=["POST"])
@login_required
def change_password():
    """New password; every other session of the account ends (this browser stays signed in)."""
    form = request.form
    try:
        with unit_of_work():
            ended = accounts.change_password(current_user, form.get("current_password", ""),
                                             form.get("password", ""), form.get("confirm", ""),
                                             min_length=current_app.config["PASSWORD_MIN_LENGTH"],
                                             keep_session=current_user.current_session_id)
    except DomainError as exc:
        return _security_page(flash_domain_error(exc), {}, 400)
    flash(_("Your password was changed.") + (" " + _("Signed out on %(n)d other devices.", n=ended) if ended else ""),
          "success")
    return redirect(url_for("account.security"))


@bp.route("/sessions/<int:session_id>/revoke", methods=["POST"])
@login_required
def revoke_session(session_id: int):
    """Sign one browser out (this one too: then you are logged out here)."""
    try:
        with unit_of_work():
            sessions.revoke(current_user, session_id)
    except DomainError as exc:
        abort_for(exc)
    if session_id == current_user.current_session_id:
        logout_user()
        flash(_("You are logged out."), "info")
        return redirect(url_for("auth.login"))
    flash(_("That device was signed out."), "success")
    return redirect(url_for("account.security"))


@bp.route("/sessions/revoke-others", methods=["POST"])
@login_required
def revoke_other_sessions():
    """Sign out everywhere except this browser."""
    with unit_of_work():
        ended = sessions.revoke_all(current_user, keep=current_user.current_session_id)
    flash(_("Signed out on %(n)d other devices.", n=ended), "success")
    return redirect(url_for("account.security"))

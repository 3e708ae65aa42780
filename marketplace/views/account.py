"""The member's own area: dashboard with their organisations, offers and needs."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.queries import catalogue as catalogue_q
from marketplace.queries import needs as needs_q
from marketplace.services import api_tokens
from marketplace.services.errors import DomainError
from marketplace.services.unit_of_work import unit_of_work
from marketplace.views.helpers import abort_for, flash_domain_error, form_dict

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/")
@login_required
def dashboard():
    org_ids = current_user.org_ids
    offers = catalogue_q.offers_of_organizations(org_ids, limit=50)
    needs = needs_q.needs_of_organizations(org_ids, limit=50)
    from marketplace.services import matching
    return render_template("account/dashboard.html", offers=offers, needs=needs,
                           funders=matching.funders_for_organization(current_user, org_ids))


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

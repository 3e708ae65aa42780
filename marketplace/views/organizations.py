"""Organisation profiles."""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from marketplace.queries import catalogue as catalogue_q
from marketplace.queries import needs as needs_q
from marketplace.queries import organizations as organizations_q
from marketplace.services.errors import DomainError

bp = Blueprint("organizations", __name__, url_prefix="/orgs")


@bp.route("/<int:org_id>")
def profile(org_id: int):
    try:
        org = organizations_q.get_organization(org_id)
    except DomainError as exc:
        abort(exc.http_status)
    offers = catalogue_q.published_offers_of(current_user, org.id)
    needs = needs_q.open_needs_of(current_user, org.id)
    return render_template("organizations/profile.html", org=org, offers=offers, needs=needs)

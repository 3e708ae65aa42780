"""Organisation profiles."""
from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Need, Offer, Organization
from marketplace.services import access

bp = Blueprint("organizations", __name__, url_prefix="/orgs")


@bp.route("/<int:org_id>")
def profile(org_id: int):
    org = db.session.get(Organization, org_id)
    if org is None:
        abort(404)
    offers = list(db.session.scalars(select(Offer).where(
        Offer.organization_id == org.id, Offer.status == "published",
        access.offer_visibility_clause(current_user)).order_by(Offer.id)))
    needs = list(db.session.scalars(select(Need).where(
        Need.organization_id == org.id, Need.status == "open",
        access.need_visibility_clause(current_user)).order_by(Need.id)))
    return render_template("organizations/profile.html", org=org, offers=offers, needs=needs)

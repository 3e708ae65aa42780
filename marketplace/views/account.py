"""The member's own area: dashboard with their organisations, offers and needs."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Need, Offer

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/")
@login_required
def dashboard():
    org_ids = current_user.org_ids
    offers = list(db.session.scalars(select(Offer).where(Offer.organization_id.in_(org_ids))
                                     .order_by(Offer.updated_at.desc()).limit(50))) if org_ids else []
    needs = list(db.session.scalars(select(Need).where(Need.organization_id.in_(org_ids))
                                    .order_by(Need.updated_at.desc()).limit(50))) if org_ids else []
    from marketplace.services import matching
    return render_template("account/dashboard.html", offers=offers, needs=needs,
                           funders=matching.funders_for_organization(current_user, org_ids))

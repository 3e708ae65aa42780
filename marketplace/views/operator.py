"""Operator tools: verification queue, batch release and the statistics dashboard."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.extensions import db
from marketplace.models import Offer
from marketplace.services import access, stats, verification
from marketplace.services.errors import DomainError
from marketplace.services.unit_of_work import unit_of_work
from marketplace.views.helpers import flash_domain_error

bp = Blueprint("operator", __name__, url_prefix="/operator")


@bp.before_request
@login_required
def require_staff():
    if not access.is_staff(current_user):
        abort(403)


@bp.route("/")
def dashboard():
    return render_template("operator/dashboard.html", data=stats.operator_dashboard())


@bp.route("/verification")
def verification_queue():
    return render_template("operator/queue.html", offers=verification.queue(current_user),
                           approved=verification.approved_pool(current_user),
                           next_number=verification.next_batch_number())


@bp.route("/verification/<int:offer_id>", methods=["GET", "POST"])
def review(offer_id: int):
    offer = db.session.get(Offer, offer_id)
    if offer is None:
        abort(404)
    errors: dict = {}
    if request.method == "POST":
        try:
            with unit_of_work():
                verification.decide(current_user, offer, request.form.get("decision", ""),
                                    request.form.get("reason", ""))
        except DomainError as exc:
            errors = flash_domain_error(exc)
        else:
            flash(_("Decision recorded."), "success")
            return redirect(url_for("operator.verification_queue"))
    return render_template("operator/review.html", offer=offer, history=verification.history(offer),
                           errors=errors, related=[], can_edit=False), (400 if errors else 200)


@bp.route("/batches/release", methods=["POST"])
def release_batch():
    ids = [int(i) for i in request.form.getlist("offer_ids") if i.isdigit()]
    try:
        with unit_of_work():
            batch = verification.release_batch(current_user, request.form.to_dict(), ids or None)
    except DomainError as exc:
        flash_domain_error(exc)
        return redirect(url_for("operator.verification_queue"))
    flash(_("Batch %(n)d published.", n=batch.number), "success")
    return redirect(url_for("catalogue.batch", number=batch.number))

"""Match suggestions: feedback on pairings and the brokers' queue of the strongest open pairings."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.queries import needs as needs_q
from marketplace.services import docking, funder_fit, matching
from marketplace.services.errors import DomainError
from marketplace.services.unit_of_work import unit_of_work

bp = Blueprint("matches", __name__, url_prefix="/matches")


@bp.route("/queue")
@login_required
def queue():
    try:
        items = matching.broker_queue(current_user)
    except DomainError as exc:
        abort(exc.http_status)
    return render_template("matches/queue.html", items=items, mediation=docking.mediation_queue(current_user))


@bp.route("/firms")
@login_required
def firms():
    """Funders: the firms that fit their financial products and focus, with or without a financing need."""
    try:
        fits = funder_fit.firms_for_funder(current_user, set(current_user.org_ids))
    except DomainError as exc:
        abort(exc.http_status)
    return render_template("matches/firms.html", fits=fits)


@bp.route("/need/<int:need_id>/offer/<int:offer_id>", methods=["POST"])
@login_required
def feedback(need_id: int, offer_id: int):
    try:
        with unit_of_work():
            matching.record_feedback(current_user, needs_q.get_need(current_user, need_id), offer_id, request.form.get("decision", ""),
                                     request.form.get("reason", ""))
    except DomainError as exc:
        if exc.http_status in (403, 404):
            abort(exc.http_status)
        flash(str(exc.message), "danger")
    else:
        flash(_("Thank you: your feedback improves the matching."), "success")
    return redirect(url_for("needs.detail", need_id=need_id) + "#matches")

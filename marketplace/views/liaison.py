"""Enterprise liaison pages: a firm's reports, the sub-park desk, and acting on a report."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.i18n import current_lang
from marketplace.models.liaison import REPORT_TOPICS
from marketplace.queries import policy as policy_q
from marketplace.queries import supply_chains as chains_q
from marketplace.services import access
from marketplace.services.errors import DomainError
from marketplace.services.policy import liaison
from marketplace.services.unit_of_work import unit_of_work
from marketplace.views.helpers import chosen_organization, flash_domain_error, form_dict

bp = Blueprint("liaison", __name__, url_prefix="/liaison")


def _now() -> datetime:
    return datetime.now(timezone.utc)


@bp.route("/", methods=["GET", "POST"])
@login_required
def mine():
    org, orgs = chosen_organization(current_user)
    errors, data = {}, {}
    if request.method == "POST":
        data = form_dict(request.form)
        try:
            with unit_of_work():
                report = liaison.submit(current_user, org, data, now=_now())
                report_id = report.id
            flash(_("Your report was sent to your sub-park's staff. They answer within three days."), "success")
            return redirect(url_for("liaison.detail", report_id=report_id))
        except DomainError as exc:
            errors = flash_domain_error(exc)
    return render_template("liaison/mine.html", org=org, orgs=orgs, reports=policy_q.liaison_reports_of({org.id}),
                           topics=REPORT_TOPICS, data=data, errors=errors, chains=[(c.id, c.product(current_lang()))
                                                                        for c in chains_q.chains_of(org.id)])


@bp.route("/<int:report_id>")
@login_required
def detail(report_id: int):
    try:
        report = liaison.get_report(current_user, report_id)
    except DomainError:
        abort(404)
    return render_template("liaison/detail.html", report=report, can_handle=liaison.can_handle(current_user, report),
                           offices=policy_q.offices())


@bp.route("/<int:report_id>/handle", methods=["POST"])
@login_required
def handle(report_id: int):
    try:
        with unit_of_work():
            liaison.handle(current_user, report_id, form_dict(request.form), now=_now())
        flash(_("Recorded; the firm sees it on its report."), "success")
    except DomainError as exc:
        if exc.http_status == 404:
            abort(404)
        flash_domain_error(exc)
    return redirect(url_for("liaison.detail", report_id=report_id))


@bp.route("/desk")
@login_required
def desk():
    sub_parks = liaison.sub_parks_of(current_user)
    everything = access.is_staff(current_user)
    if not sub_parks and not everything:
        abort(404)
    return render_template("liaison/desk.html", sub_parks=sorted(sub_parks), everything=everything, now=_now(),
                           desk=policy_q.liaison_desk(sub_parks, everything=everything))

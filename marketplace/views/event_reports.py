"""Event report (organiser and operators), ratings after the event, outcomes, meeting recommendations.

Registered before the ``events`` blueprint: its report page answers ``/events/<id>/report`` (the older route
of the same address in ``views/events.py`` is shadowed and can go).
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.i18n import current_lang
from marketplace.queries import event_recommendations as recommendations_q
from marketplace.queries import events as events_q
from marketplace.services import events as svc
from marketplace.services import exports
from marketplace.services.errors import DomainError
from marketplace.services.events import reporting as report_svc
from marketplace.services.unit_of_work import unit_of_work
from marketplace.views.helpers import flash_domain_error

bp = Blueprint("event_reports", __name__, url_prefix="/events")


def _event(event_id: int, manage: bool = False):
    try:
        event = events_q.get_event(current_user, event_id)
        if manage:
            svc.require_manage(current_user, event)
    except DomainError as exc:
        abort(exc.http_status)
    return event


def _report_page(event, *, outcome_data: dict | None = None, errors: dict | None = None, status: int = 200):
    data = report_svc.event_report(current_user, event)
    organisations = {o.id: o for r in data["participants"] for o in r.user.organizations}
    return render_template(
        "events/report.html", event=event, data=data, registrants=data["participants"],
        interest_labels=svc.INTEREST_LABELS, follow_up_labels=svc.FOLLOW_UP_LABELS,
        registration_labels=svc.REGISTRATION_LABELS, outcome_labels=report_svc.OUTCOME_LABELS,
        organisation_options=sorted(((o.id, o.name(current_lang())) for o in organisations.values()),
                                    key=lambda option: option[1]),
        outcome_data=outcome_data or {"happened_on": date.today().isoformat()}, errors=errors or {}), status


@bp.route("/<int:event_id>/report")
@login_required
def report(event_id: int):
    return _report_page(_event(event_id, manage=True))


@bp.route("/<int:event_id>/report.xlsx")
@login_required
def report_export(event_id: int):
    event = _event(event_id, manage=True)
    body = exports.xlsx_workbook_bytes(report_svc.export_report(current_user, event, current_lang()))
    return Response(body, mimetype=exports.MIMETYPES["xlsx"], headers={
        "Content-Disposition": f'attachment; filename="techbridge-event-{event.id}-report-{date.today():%Y%m%d}.xlsx"',
        "Cache-Control": "private, no-store"})


@bp.route("/<int:event_id>/outcomes", methods=["POST"])
@login_required
def record_outcome(event_id: int):
    event = _event(event_id, manage=True)
    data = request.form.to_dict()
    try:
        with unit_of_work():
            report_svc.record_outcome(current_user, event, data)
    except DomainError as exc:
        if exc.http_status in (403, 404):
            abort(exc.http_status)
        return _report_page(event, outcome_data=data, errors=flash_domain_error(exc), status=400)
    flash(_("Outcome recorded."), "success")
    return redirect(url_for("event_reports.report", event_id=event_id) + "#outcomes")


@bp.route("/<int:event_id>/outcomes/<int:outcome_id>/delete", methods=["POST"])
@login_required
def remove_outcome(event_id: int, outcome_id: int):
    event = _event(event_id, manage=True)
    try:
        with unit_of_work():
            report_svc.remove_outcome(current_user, event, outcome_id)
    except DomainError as exc:
        abort(exc.http_status)
    flash(_("Outcome removed."), "success")
    return redirect(url_for("event_reports.report", event_id=event_id) + "#outcomes")


@bp.route("/<int:event_id>/feedback", methods=["GET", "POST"])
@login_required
def feedback(event_id: int):
    """The rating form: open to the event's participants once it has ended; sending it again replaces it."""
    event = _event(event_id)
    if not (svc.is_attendee(current_user, event) or svc.can_manage(current_user, event)):
        abort(403)
    mine = report_svc.my_feedback(current_user, event)
    data = {"rating": str(mine.rating), "comment": mine.comment} if mine else {}
    errors: dict = {}
    status = 200
    if request.method == "POST":
        data = request.form.to_dict()
        try:
            with unit_of_work():
                report_svc.give_feedback(current_user, event, data)
        except DomainError as exc:
            if exc.http_status in (403, 404):
                abort(exc.http_status)
            errors, status = flash_domain_error(exc), 400
        else:
            flash(_("Thank you: your rating was saved."), "success")
            return redirect(url_for("events.detail", event_id=event_id))
    return render_template("events/feedback.html", event=event, data=data, errors=errors, mine=mine,
                           ended=report_svc.has_ended(event),
                           may_rate=report_svc.feedback_open(current_user, event)), status


@bp.route("/<int:event_id>/recommendations")
@login_required
def recommendations(event_id: int):
    """Whom the viewer should meet at the event, with the engine's reasons."""
    event = _event(event_id)
    if not (svc.is_attendee(current_user, event) or svc.can_manage(current_user, event)):
        abort(403)
    items = recommendations_q.for_viewer(current_user, event)
    may_request = (event.status == "published" and svc.slot_count(event) > 0
                   and svc.is_participant(current_user, event))
    return render_template("events/recommendations.html", event=event, items=items,
                           attendee=svc.is_attendee(current_user, event), may_request=may_request)

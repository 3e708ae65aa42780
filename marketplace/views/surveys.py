"""Survey pages: operators write, send, close and read surveys (charts, indicators over time, Excel export);
firms answer the open surveys that ask them, and change their answers until the survey closes."""
from __future__ import annotations

from datetime import datetime, timezone
from io import BytesIO
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from marketplace.queries import surveys as surveys_q
from marketplace.services import access
from marketplace.services.errors import DomainError
from marketplace.services.policy import survey_results, surveys
from marketplace.services.unit_of_work import unit_of_work
from marketplace.services.versions import StaleEdit
from marketplace.settings import current_settings
from marketplace.views.helpers import chosen_organization, flash_domain_error, flash_stale_edit, form_dict

bp = Blueprint("surveys", __name__, url_prefix="/surveys")
LIST_FIELDS = ("audience_sub_parks", "audience_kinds", "audience_sizes")


def _today():
    return datetime.now(ZoneInfo(current_settings().default_timezone)).date()


def _survey_or_404(survey_id: int):
    try:
        return surveys.get_survey(current_user, survey_id)
    except DomainError:
        abort(404)


@bp.route("/")
@login_required
def index():
    """Operators: every survey. Members: the open surveys that ask their organisation."""
    if access.is_staff(current_user):
        return render_template("surveys/index.html", rows=surveys_q.all_surveys())
    org, orgs = chosen_organization(current_user)
    return render_template("surveys/mine.html", org=org, orgs=orgs, rows=surveys_q.open_for(org, _today()))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    if not access.is_staff(current_user):
        abort(404)
    data, errors = {"q1_kind": "number", "q2_kind": "single", "q3_kind": "text"}, {}
    if request.method == "POST":
        data = form_dict(request.form, LIST_FIELDS)
        try:
            with unit_of_work():
                survey_id = surveys.create_survey(current_user, data, today=_today()).id
            flash(_("The survey was saved as a draft. Check it, then send it."), "success")
            return redirect(url_for("surveys.detail", survey_id=survey_id))
        except DomainError as exc:
            errors = flash_domain_error(exc)
    return render_template("surveys/new.html", data=data, errors=errors, max_questions=surveys.MAX_QUESTIONS)


@bp.route("/<int:survey_id>")
@login_required
def detail(survey_id: int):
    survey = _survey_or_404(survey_id)
    if access.is_staff(current_user):
        rows = survey_results.responses(survey)
        days, per_day = survey_results.responses_per_day(rows)
        return render_template("surveys/results.html", survey=survey, rows=rows, days=days, per_day=per_day,
                               summary=survey_results.summary(survey, rows), asked=len(surveys.audience(survey)))
    org, orgs = chosen_organization(current_user)
    if not surveys.in_audience(org, survey):
        abort(404)
    response = surveys.response_of(survey, org.id)
    data = {f"q{k}": v for k, v in (response.answers if response else {}).items()}
    return render_template("surveys/answer.html", survey=survey, org=org, orgs=orgs, response=response, data=data,
                           errors={}, can_answer=surveys.is_open(survey, _today()))


@bp.route("/<int:survey_id>/answer", methods=["POST"])
@login_required
def answer(survey_id: int):
    survey = _survey_or_404(survey_id)
    org, orgs = chosen_organization(current_user)
    if not surveys.in_audience(org, survey):
        abort(404)
    data = form_dict(request.form)
    try:
        with unit_of_work():
            surveys.answer(current_user, org, survey, data, now=datetime.now(timezone.utc), today=_today())
        flash(_("Thank you: your answers were saved. You may change them until the survey closes."), "success")
        return redirect(url_for("surveys.detail", survey_id=survey_id, org=org.id))
    except StaleEdit as exc:  # answered meanwhile (another tab, a colleague): the form again, with 409
        errors, status = flash_stale_edit(exc), exc.http_status
    except DomainError as exc:  # the answers are shown again with what to correct, as every edit form does
        errors, status = flash_domain_error(exc), 400
    response = surveys.response_of(survey, org.id)
    return render_template("surveys/answer.html", survey=survey, org=org, orgs=orgs, response=response, data=data,
                           errors=errors, can_answer=surveys.is_open(survey, _today())), status


@bp.route("/<int:survey_id>/send", methods=["POST"])
@login_required
def send(survey_id: int):
    survey = _survey_or_404(survey_id)
    if not access.is_staff(current_user):
        abort(404)
    try:
        with unit_of_work():
            told = surveys.open_survey(current_user, survey, now=datetime.now(timezone.utc), today=_today())
        flash(ngettext("The survey is open; %(num)d organisation was told.",
                       "The survey is open; %(num)d organisations were told.", told), "success")
    except DomainError as exc:
        flash_domain_error(exc)
    return redirect(url_for("surveys.detail", survey_id=survey_id))


@bp.route("/<int:survey_id>/close", methods=["POST"])
@login_required
def close(survey_id: int):
    survey = _survey_or_404(survey_id)
    if not access.is_staff(current_user):
        abort(404)
    try:
        with unit_of_work():
            surveys.close_survey(current_user, survey)
        flash(_("The survey is closed."), "success")
    except DomainError as exc:
        flash_domain_error(exc)
    return redirect(url_for("surveys.detail", survey_id=survey_id))


@bp.route("/<int:survey_id>/responses.xlsx")
@login_required
def export(survey_id: int):
    survey = _survey_or_404(survey_id)
    if not access.is_staff(current_user):
        abort(404)
    data = survey_results.workbook(survey, survey_results.responses(survey))
    return send_file(BytesIO(data), as_attachment=True, download_name=f"survey-{survey.id}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/indicators")
@login_required
def indicators():
    """Operators: each indicator's value over the successive surveys that asked it."""
    if not access.is_staff(current_user):
        abort(404)
    return render_template("surveys/indicators.html", indicators=survey_results.indicators())

"""Policy desk pages: the public catalogue and figures, a firm's matching measures, questionnaire and filings,
and the offices' review queue."""
from __future__ import annotations

from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from marketplace import vocabulary
from marketplace.i18n import current_lang
from marketplace.queries import policy as policy_q
from marketplace.queries.taxonomy import field_names
from marketplace.services import access
from marketplace.services.errors import DomainError
from marketplace.services.policy import announcements, catalogue, eligibility, filings, record_pdf
from marketplace.services.policy import programmes as programme_service
from marketplace.services.policy.exports import filings_workbook
from marketplace.services.unit_of_work import unit_of_work
from marketplace.settings import current_settings
from marketplace.views.helpers import chosen_organization, flash_domain_error, form_dict

bp = Blueprint("policy", __name__, url_prefix="/policies")


def _today():
    return datetime.now(ZoneInfo(current_settings().default_timezone)).date()


@bp.route("/")
def index():
    q = request.args.get("q", "")
    measures = policy_q.measures(q, include_archived=access.is_staff(current_user))
    return render_template("policy/index.html", measures=measures, q=q, counts=policy_q.public_counts(),
                           is_staff=access.is_staff(current_user))


@bp.route("/<int:measure_id>")
def measure(measure_id: int):
    item = policy_q.measure(measure_id)
    if item is None or (item.status != "active" and not access.is_staff(current_user)):
        abort(404)
    fit = None
    if current_user.is_authenticated and current_user.organizations:
        org, _orgs = chosen_organization(current_user)
        fit = eligibility.evaluate(item, eligibility.facts_for(org), current_lang())
    conditions = eligibility.evaluate(item, {}, current_lang()).checks
    return render_template("policy/measure.html", measure=item, fit=fit, conditions=conditions,
                           can_edit=access.is_staff(current_user))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_measure():
    """An operator adds a measure of the park's own."""
    if not access.is_staff(current_user):
        abort(404)
    errors, status, data = {}, 200, {"status": "active", "conditions": "[]", "office_codes": []}
    if request.method == "POST":
        data = form_dict(request.form, ("office_codes",))
        try:
            with unit_of_work():
                item = catalogue.create_measure(current_user, data, today=_today())
            flash(_("The measure was added; the firms it may fit are told."), "success")
            return redirect(url_for("policy.measure", measure_id=item.id))
        except DomainError as exc:
            errors, status = flash_domain_error(exc), exc.http_status
    return render_template("policy/edit.html", measure=None, data=data, errors=errors,
                           offices=policy_q.offices()), status


@bp.route("/<int:measure_id>/edit", methods=["GET", "POST"])
@login_required
def edit(measure_id: int):
    item = policy_q.measure(measure_id)
    if item is None or not access.is_staff(current_user):
        abort(404)
    errors, data = {}, None
    if request.method == "POST":
        data = form_dict(request.form)
        try:
            with unit_of_work():
                catalogue.update_measure(current_user, item, data)
            flash(_("The measure was saved; the previous version is kept in its history."), "success")
            return redirect(url_for("policy.measure", measure_id=measure_id))
        except DomainError as exc:
            errors = flash_domain_error(exc)
    return render_template("policy/edit.html", measure=item, data=data or catalogue.snapshot(item), errors=errors)


@bp.route("/<int:measure_id>/candidates")
@login_required
def candidates(measure_id: int):
    """Operators: the firms that likely qualify for a measure, those that have not filed first."""
    item = policy_q.measure(measure_id)
    if item is None or not access.is_staff(current_user):
        abort(404)
    rows = announcements.candidates(item, current_lang(), verdicts=("likely",))
    return render_template("policy/candidates.html", measure=item, unfiled=[c for c in rows if not c.filed],
                           filed=[c for c in rows if c.filed])


@bp.route("/<int:measure_id>/remind", methods=["POST"])
@login_required
def remind(measure_id: int):
    item = policy_q.measure(measure_id)
    if item is None or not access.is_staff(current_user):
        abort(404)
    try:
        with unit_of_work():
            told = announcements.remind_unfiled(current_user, item, today=_today())
        flash(ngettext("%(num)d organisation was told.", "%(num)d organisations were told.", told)
              if told else _("Nobody new to tell today: each firm hears of a measure at most once a day."),
              "success" if told else "info")
    except DomainError as exc:
        flash_domain_error(exc)
    return redirect(url_for("policy.candidates", measure_id=measure_id))


@bp.route("/matches")
@login_required
def matches():
    org, orgs = chosen_organization(current_user)
    fits = eligibility.measures_for(org, policy_q.measures(), current_lang())
    return render_template("policy/matches.html", org=org, orgs=orgs, fits=fits,
                           filings=policy_q.filings_of({org.id}))


@bp.route("/questionnaire", methods=["GET", "POST"])
@login_required
def questionnaire():
    org, orgs = chosen_organization(current_user)
    if request.method == "POST":
        with unit_of_work():
            eligibility.save_answers(org, form_dict(request.form))
        flash(_("Your answers were saved."), "success")
        return redirect(url_for("policy.matches", org=org.id))
    return render_template("policy/questionnaire.html", org=org, orgs=orgs, answers=eligibility.answers_of(org),
                           questions=[(key, eligibility.FACTS[key]) for key in eligibility.QUESTIONS])


@bp.route("/filings/new", methods=["GET", "POST"])
@login_required
def new_filing():
    org, orgs = chosen_organization(current_user)
    errors = {}
    data = {"measures": request.args.getlist("measure"), "contact_name": current_user.display_name}
    if request.method == "POST":
        data = form_dict(request.form, ("measures",))
        try:
            with unit_of_work():
                filing = filings.file_project(current_user, org, data, today=_today())
                filing_id = filing.id
            flash(_("Your filing was submitted. The offices responsible will review it."), "success")
            return redirect(url_for("policy.filing", filing_id=filing_id))
        except DomainError as exc:
            errors = flash_domain_error(exc)
    names = field_names(filings.DIRECTIONS, current_lang())
    return render_template("policy/filing_form.html", org=org, orgs=orgs, data=data, errors=errors,
                           measures=policy_q.measures(),
                           direction_options=[(code, names.get(code, code)) for code in filings.DIRECTIONS],
                           preview=filings.preview_title(_today(), org.short_name, data.get("measures")))


@bp.route("/filings/<int:filing_id>")
@login_required
def filing(filing_id: int):
    try:
        item = filings.get_filing(current_user, filing_id)
    except DomainError:
        abort(404)
    reviewable = {p.id for p in item.parts if filings.can_review(current_user, p)}
    decisions = {status: [(s, vocabulary.label("policy_part_status", s)) for s in nexts]
                 for status, nexts in filings.TRANSITIONS.items()}
    return render_template("policy/filing.html", filing=item, reviewable=reviewable, transitions=decisions,
                           direction_name=field_names([item.direction], current_lang()).get(item.direction, ""),
                           print_view=request.args.get("print") == "1")


@bp.route("/filings/<int:filing_id>/print")
@login_required
def filing_print(filing_id: int):
    """The filing record laid out for paper (the PDF file is ``filing_pdf``)."""
    try:
        item = filings.get_filing(current_user, filing_id)
    except DomainError:
        abort(404)
    return render_template("policy/filing_print.html", filing=item, org=policy_q.filing_organization(item),
                           direction_name=field_names([item.direction], current_lang()).get(item.direction, ""))


@bp.route("/filings/<int:filing_id>/record.pdf")
@login_required
def filing_pdf(filing_id: int):
    """The filing record as a PDF file, for the firm's files and the offices' archives."""
    try:
        item = filings.get_filing(current_user, filing_id)
    except DomainError:
        abort(404)
    lang = current_lang()
    data = record_pdf.filing_record_pdf(item, policy_q.filing_organization(item),
                                        field_names([item.direction], lang).get(item.direction, ""), lang)
    return send_file(BytesIO(data), mimetype="application/pdf", as_attachment=True,
                     download_name=f"filing-{item.id}.pdf")


@bp.route("/parts/<int:part_id>/review", methods=["POST"])
@login_required
def review(part_id: int):
    try:
        with unit_of_work():
            part = filings.review_part(current_user, part_id, form_dict(request.form))
            filing_id = part.filing_id
        flash(_("The decision was recorded; the firm sees it on its filing."), "success")
        return redirect(url_for("policy.filing", filing_id=filing_id))
    except DomainError as exc:
        if exc.http_status == 404:
            abort(404)
        flash_domain_error(exc)
        return redirect(request.referrer or url_for("policy.office"))


@bp.route("/filings.xlsx")
@login_required
def export_filings():
    org, _orgs = chosen_organization(current_user)
    data = filings_workbook(policy_q.filings_of({org.id}), current_lang())
    return send_file(BytesIO(data), as_attachment=True, download_name="filings.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/office")
@login_required
def office():
    office_ids = filings.office_ids_of(current_user)
    if not office_ids and not access.is_staff(current_user):
        abort(404)
    return render_template("policy/office.html", parts=policy_q.office_queue(office_ids),
                           offices=[o for o in policy_q.offices() if o.id in office_ids])


@bp.route("/figures")
def figures():
    return render_template("policy/figures.html", measures=policy_q.measures(), offices=policy_q.offices(),
                           counts=policy_q.public_counts())


@bp.route("/programmes")
def programmes():
    return render_template("policy/programmes.html", figures=policy_q.programme_figures(),
                           can_record=access.is_staff(current_user), errors={})


@bp.route("/programmes/<int:programme_id>/entries", methods=["POST"])
@login_required
def record_entry(programme_id: int):
    item = policy_q.programme(programme_id)
    if item is None or not access.is_staff(current_user):
        abort(404)
    try:
        with unit_of_work():
            programme_service.record_entry(current_user, item, form_dict(request.form), today=_today())
        flash(_("Recorded; the programme's figures include it."), "success")
    except DomainError as exc:
        flash_domain_error(exc)
    return redirect(url_for("policy.programmes"))

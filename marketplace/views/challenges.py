"""Open challenges (揭榜挂帅): the public list and pages, the challenger's form and submission, the operators'
verification, questions and answers, and proposals (drafts, consortium, files, submission, withdrawal)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.queries import challenges as challenges_q
from marketplace.queries import needs as needs_q
from marketplace.queries import taxonomy
from marketplace.queries.paging import site_per_page
from marketplace.services import access, confidentiality
from marketplace.services.challenges import common, proposals, publishing, questions
from marketplace.services.cleaning import parse_id
from marketplace.services.errors import DomainError
from marketplace.services.events.common import local
from marketplace.services.unit_of_work import unit_of_work
from marketplace.views.edit_forms import versioned_edit
from marketplace.views.helpers import abort_for, flash_domain_error, form_dict, page_arg
from marketplace.vocabulary import label

bp = Blueprint("challenges", __name__, url_prefix="/challenges")
LIST_KEYS = ("eligible_kinds", "field_codes")
CRITERIA_ROWS = 5


def _challenge(challenge_id: int):
    try:
        return challenges_q.get_challenge(current_user, challenge_id)
    except DomainError as exc:
        abort(exc.http_status)


def _proposal(challenge, proposal_id: int):
    try:
        return proposals.get_proposal(current_user, proposal_id, challenge)
    except DomainError as exc:
        abort(exc.http_status)


def _amount(name: str) -> Decimal | None:
    try:
        value = Decimal((request.args.get(name) or "").strip().replace(",", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() and 0 <= value < Decimal("1e14") else None


def _challenge_form() -> dict:
    """The posted form with its criteria rows gathered into a list."""
    data = form_dict(request.form, LIST_KEYS)
    data["criteria"] = [{"name_zh": request.form.get(f"criterion_name_zh_{i}", ""),
                         "name_en": request.form.get(f"criterion_name_en_{i}", ""),
                         "weight": request.form.get(f"criterion_weight_{i}", "")} for i in range(1, CRITERIA_ROWS + 1)]
    data["consortium_allowed"] = bool(request.form.get("consortium_allowed"))
    return data


def _form_page(data: dict, errors: dict, status: int, *, challenge=None, orgs=(), need_id=None):
    return render_template("challenges/form.html", data=data, errors=errors, challenge=challenge, orgs=orgs,
                           need_id=need_id, fields=taxonomy.field_tree(), rows=CRITERIA_ROWS,
                           solver_kinds=[(k, label("org_kind", k)) for k in common.SOLVER_KINDS]), status


# --- public -----------------------------------------------------------------------------------------------

@bp.route("/")
def index():
    status = request.args.get("status")
    status = status if status in challenges_q.LIST_STATUSES else None
    kind = request.args.get("kind")
    kind = kind if kind in common.CHALLENGER_KINDS else None
    field = (request.args.get("field") or "").strip()[:40] or None
    page = page_arg()
    found = challenges_q.list_challenges(current_user, status=status, field=field, kind=kind,
                                         award_min=_amount("award_min"), award_max=_amount("award_max"),
                                         page=page, per_page=site_per_page())
    return render_template("challenges/index.html", challenges=found.items, total=found.total, page=page,
                           per_page=found.per_page, status=status, kind=kind, field=field,
                           award_min=request.args.get("award_min", "")[:20],
                           award_max=request.args.get("award_max", "")[:20], fields=taxonomy.field_tree(),
                           challenger_kinds=common.CHALLENGER_KINDS, shown_status=common.shown_status,
                           deadline_of=lambda c: local(c.deadline, c.timezone),
                           can_publish=bool(common.publishing_organizations(current_user)))


@bp.route("/<int:challenge_id>")
def detail(challenge_id: int):
    challenge = _challenge(challenge_id)
    with unit_of_work():
        details = confidentiality.open_details(current_user, challenge, remote_addr=request.remote_addr or "")
    manage = common.may_manage(current_user, challenge)
    return render_template(
        "challenges/detail.html", challenge=challenge, details=details, manage=manage,
        status=common.shown_status(challenge), deadline_local=local(challenge.deadline, challenge.timezone),
        deadline_iso=local(challenge.deadline, "UTC").isoformat(), open=common.accepts_submissions(challenge),
        clarifications=challenges_q.clarifications(challenge),
        questions=challenges_q.questions_for(current_user, challenge),
        proposals=challenges_q.proposals_for(current_user, challenge) if current_user.is_authenticated else [],
        own=challenges_q.own_proposal(current_user, challenge), follows=common.follows(current_user, challenge),
        lead_choices=proposals.lead_choices(current_user, challenge), eligible=common.eligible_kinds(challenge),
        can_edit=publishing.may_edit(current_user, challenge),
        can_withdraw=manage and challenge.status in common.WITHDRAWABLE_STATUSES,
        can_manage_confidentiality=confidentiality.is_owner(current_user, challenge),
        staff=access.is_staff(current_user))


# --- the challenger -----------------------------------------------------------------------------------------

@bp.route("/mine")
@login_required
def mine():
    return render_template("challenges/mine.html",
                           challenges=challenges_q.challenges_of_organizations(current_user.org_ids),
                           proposals=challenges_q.proposals_of_organizations(current_user.org_ids),
                           panels=challenges_q.panel_seats_of(current_user.id),
                           can_publish=bool(common.publishing_organizations(current_user)))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    orgs = common.publishing_organizations(current_user)
    if not orgs:
        flash(_("Members of hospitals, firms, sub-parks and the operator publish challenges."), "warning")
        return redirect(url_for("challenges.index"))
    need_id = parse_id(request.values.get("need_id"))
    errors: dict = {}
    if request.method == "POST":
        data = _challenge_form()
        try:
            with unit_of_work():
                challenge = publishing.create(current_user, parse_id(data.get("organization_id")) or orgs[0].id,
                                              data, need_id=need_id)
        except DomainError as exc:
            errors = flash_domain_error(exc)
            if exc.http_status in (403, 404) and not exc.field_errors:
                abort_for(exc)
        else:
            flash(_("Draft saved. Check it, then submit it for verification."), "success")
            return redirect(url_for("challenges.detail", challenge_id=challenge.id))
        return _form_page(data, errors, 400, orgs=orgs, need_id=need_id)
    data = {"eligible_kinds": list(common.DEFAULT_ELIGIBLE_KINDS), "consortium_allowed": True}
    if need_id is not None:  # "publish as a challenge" from a need of one's organisation
        try:
            need = access.require_need_edit(current_user, needs_q.get_need(current_user, need_id))
        except DomainError as exc:
            abort(exc.http_status)
        data = publishing.values_from_need(need)
        data["organization_id"] = need.organization_id
    return _form_page(data, errors, 200, orgs=orgs, need_id=need_id)


@bp.route("/<int:challenge_id>/edit", methods=["GET", "POST"])
@login_required
def edit(challenge_id: int):
    challenge = _challenge(challenge_id)
    if not common.may_manage(current_user, challenge):
        abort(403)
    return versioned_edit(
        challenge.version, form_values=lambda: publishing.form_values(challenge), read_form=_challenge_form,
        save=lambda data, version: publishing.update(current_user, challenge, data, expected_version=version),
        saved=_("Changes saved."), next_url=url_for("challenges.detail", challenge_id=challenge_id),
        error_status=None,
        render=lambda data, errors, status: _form_page(data, errors, status, challenge=challenge,
                                                       orgs=[challenge.organization]))


def _act(challenge_id: int, action, done: str):
    """Run a change on the challenge; a refusal is flashed (an unknown or hidden challenge is a 404)."""
    challenge = _challenge(challenge_id)
    try:
        with unit_of_work():
            action(current_user, challenge)
    except DomainError as exc:
        if exc.http_status in (403, 404):
            abort_for(exc)
        flash_domain_error(exc)
    else:
        flash(done, "success")
    return redirect(url_for("challenges.detail", challenge_id=challenge_id))


@bp.route("/<int:challenge_id>/submit", methods=["POST"])
@login_required
def submit(challenge_id: int):
    return _act(challenge_id, publishing.submit, _("Submitted for verification. An operator will check it."))


@bp.route("/<int:challenge_id>/withdraw", methods=["POST"])
@login_required
def withdraw(challenge_id: int):
    return _act(challenge_id, publishing.withdraw, _("Challenge withdrawn."))


@bp.route("/<int:challenge_id>/follow", methods=["POST"])
@login_required
def follow(challenge_id: int):
    return _act(challenge_id, questions.register_interest,
                _("You follow this challenge: you will be told of every clarification."))


# --- operators ------------------------------------------------------------------------------------------------

@bp.route("/review")
@login_required
def review_queue():
    try:
        waiting = publishing.review_queue(current_user)
    except DomainError as exc:
        abort(exc.http_status)
    return render_template("challenges/review_queue.html", challenges=waiting)


@bp.route("/<int:challenge_id>/review", methods=["GET", "POST"])
@login_required
def review(challenge_id: int):
    if not access.is_staff(current_user):
        abort(403)
    challenge = _challenge(challenge_id)
    errors, status = {}, 200
    if request.method == "POST":
        try:
            with unit_of_work():
                publishing.decide(current_user, challenge, request.form.get("decision", ""),
                                  request.form.get("reason", ""), remote_addr=request.remote_addr or "")
        except DomainError as exc:
            errors, status = flash_domain_error(exc), exc.http_status
        else:
            flash(_("Decision recorded."), "success")
            return redirect(url_for("challenges.review_queue"))
    return render_template("challenges/review.html", challenge=challenge, errors=errors,
                           deadline_local=local(challenge.deadline, challenge.timezone),
                           status_label=common.shown_status(challenge)), status


# --- questions ------------------------------------------------------------------------------------------------

@bp.route("/<int:challenge_id>/questions", methods=["POST"])
@login_required
def ask(challenge_id: int):
    challenge = _challenge(challenge_id)
    try:
        with unit_of_work():
            questions.ask(current_user, challenge, request.form.get("text", ""))
    except DomainError as exc:
        if exc.http_status in (403, 404):
            abort_for(exc)
        flash_domain_error(exc)
    else:
        flash(_("Your question was sent to the challenger."), "success")
    return redirect(url_for("challenges.detail", challenge_id=challenge_id) + "#questions")


@bp.route("/<int:challenge_id>/questions/<int:question_id>/answer", methods=["POST"])
@login_required
def answer(challenge_id: int, question_id: int):
    challenge = _challenge(challenge_id)
    try:
        with unit_of_work():
            question = questions.get_question(current_user, challenge, question_id)
            questions.answer(current_user, challenge, question, request.form.get("answer", ""),
                             request.form.get("visibility", ""))
    except DomainError as exc:
        if exc.http_status in (403, 404):
            abort_for(exc)
        flash_domain_error(exc)
    else:
        flash(_("Answer published."), "success")
    return redirect(url_for("challenges.detail", challenge_id=challenge_id) + "#questions")


# --- proposals -------------------------------------------------------------------------------------------------

def _proposal_page(challenge, data, errors, status, proposal=None, leads=()):
    lead_id = proposal.lead_organization_id if proposal else parse_id(data.get("lead_organization_id"))
    return render_template("challenges/proposal_form.html", challenge=challenge, proposal=proposal, data=data,
                           errors=errors, leads=leads,
                           partners=challenges_q.consortium_choices(challenge, lead_id)
                           if challenge.consortium_allowed else []), status


@bp.route("/<int:challenge_id>/proposals/new", methods=["GET", "POST"])
@login_required
def start_proposal(challenge_id: int):
    challenge = _challenge(challenge_id)
    leads = proposals.lead_choices(current_user, challenge)
    if not leads:
        flash(_("None of your organisations may lead a proposal to this challenge."), "warning")
        return redirect(url_for("challenges.detail", challenge_id=challenge_id))
    if request.method == "GET":
        return _proposal_page(challenge, {"lead_organization_id": leads[0].id}, {}, 200, leads=leads)
    data = form_dict(request.form, ("member_ids",))
    try:
        with unit_of_work():
            proposal = proposals.start(current_user, challenge,
                                       parse_id(data.get("lead_organization_id")) or leads[0].id, data)
    except DomainError as exc:
        if exc.http_status in (403, 404) and not exc.field_errors:
            abort_for(exc)
        return _proposal_page(challenge, data, flash_domain_error(exc), 400, leads=leads)
    flash(_("Draft proposal saved. Other solvers never see it; submit it before the deadline."), "success")
    return redirect(url_for("challenges.proposal", challenge_id=challenge_id, proposal_id=proposal.id))


@bp.route("/<int:challenge_id>/proposals/<int:proposal_id>")
@login_required
def proposal(challenge_id: int, proposal_id: int):
    challenge = _challenge(challenge_id)
    found = _proposal(challenge, proposal_id)
    from marketplace.services import uploads
    return render_template("challenges/proposal.html", challenge=challenge, proposal=found,
                           files=proposals.files_of(found), can_edit=proposals.may_edit(current_user, found),
                           can_restart=found.status == "withdrawn" and proposals.is_solver(current_user, found)
                           and common.accepts_submissions(challenge),
                           accept=uploads.accept_attribute("attachment"), types=uploads.allowed_names("attachment"))


@bp.route("/<int:challenge_id>/proposals/<int:proposal_id>/edit", methods=["GET", "POST"])
@login_required
def edit_proposal(challenge_id: int, proposal_id: int):
    challenge = _challenge(challenge_id)
    found = _proposal(challenge, proposal_id)
    if not proposals.is_solver(current_user, found):
        abort(403)
    return versioned_edit(
        found.version, form_values=lambda: proposals.form_values(found),
        read_form=lambda: form_dict(request.form, ("member_ids",)),
        save=lambda data, version: proposals.update(current_user, found, data, expected_version=version),
        saved=_("Changes saved."),
        next_url=url_for("challenges.proposal", challenge_id=challenge_id, proposal_id=proposal_id),
        error_status=None,
        render=lambda data, errors, status: _proposal_page(challenge, data, errors, status, proposal=found))


def _proposal_act(challenge_id: int, proposal_id: int, action, done: str):
    challenge = _challenge(challenge_id)
    found = _proposal(challenge, proposal_id)
    try:
        with unit_of_work():
            action(current_user, found)
    except DomainError as exc:
        if exc.http_status in (403, 404):
            abort_for(exc)
        flash_domain_error(exc)
    else:
        flash(done, "success")
    return redirect(url_for("challenges.proposal", challenge_id=challenge_id, proposal_id=proposal_id))


@bp.route("/<int:challenge_id>/proposals/<int:proposal_id>/submit", methods=["POST"])
@login_required
def submit_proposal(challenge_id: int, proposal_id: int):
    return _proposal_act(challenge_id, proposal_id, proposals.submit,
                         _("Proposal submitted. You may change or withdraw it until the deadline."))


@bp.route("/<int:challenge_id>/proposals/<int:proposal_id>/withdraw", methods=["POST"])
@login_required
def withdraw_proposal(challenge_id: int, proposal_id: int):
    return _proposal_act(challenge_id, proposal_id, proposals.withdraw, _("Proposal withdrawn."))


@bp.route("/<int:challenge_id>/proposals/<int:proposal_id>/files", methods=["POST"])
@login_required
def upload_file(challenge_id: int, proposal_id: int):
    from marketplace.views.uploads import _read_upload, file_store
    challenge = _challenge(challenge_id)
    found = _proposal(challenge, proposal_id)
    filename, data = _read_upload("attachment")
    try:
        with unit_of_work():
            proposals.attach(current_user, found, filename, data, file_store(), remote_addr=request.remote_addr or "")
    except DomainError as exc:
        if exc.http_status in (403, 404):
            abort_for(exc)
        flash_domain_error(exc)
    else:
        flash(_("File attached."), "success")
    return redirect(url_for("challenges.proposal", challenge_id=challenge_id, proposal_id=proposal_id))


@bp.route("/<int:challenge_id>/proposals/<int:proposal_id>/files/<int:file_id>")
@login_required
def download_file(challenge_id: int, proposal_id: int, file_id: int):
    from marketplace.views.uploads import _protect, file_store
    challenge = _challenge(challenge_id)
    found = _proposal(challenge, proposal_id)
    try:
        stored, path = proposals.open_file(current_user, found, file_id, file_store())
    except DomainError as exc:
        abort(exc.http_status)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=stored.content_type, as_attachment=True,
                         download_name=stored.original_name)
    return _protect(response, private=True)

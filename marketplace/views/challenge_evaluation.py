"""Open challenges, the deciding side: finding and inviting solvers, the evaluation panel, conflicts and scores,
the shortlist and requests for more, the award, milestones and the reports.

Every page here is for the challenger, its panel, technology managers (solvers) or operators; a solver who is
none of them gets a 404, never a score or another team's proposal. Milestones and requests for more are also
shown to the solvers they concern.
"""
from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.services.challenges import awards, evaluation, info_requests, reports, reverse_matching
from marketplace.services.errors import DomainError
from marketplace.services.exports import MIMETYPES, xlsx_bytes
from marketplace.services.unit_of_work import unit_of_work
from marketplace.views.helpers import flash_domain_error

bp = Blueprint("challenge_eval", __name__, url_prefix="/challenges")


@bp.app_context_processor
def _evaluation_links():
    """``challenge_eval_links(challenge)``: the deciding pages the signed-in person may open for a challenge
    (shown on the challenge's page)."""
    def links(challenge) -> list[tuple[str, str]]:
        if not getattr(current_user, "is_authenticated", False):
            return []
        out = []
        if evaluation.may_see_evaluation(current_user, challenge) and challenge.status not in ("draft", "submitted"):
            out.append((_("Evaluation"), url_for("challenge_eval.overview", challenge_id=challenge.id)))
        if reverse_matching.may_invite(current_user, challenge) and challenge.status == "published":
            out.append((_("Find and invite solvers"), url_for("challenge_eval.solvers", challenge_id=challenge.id)))
        if challenge.status in ("awarded", "delivered"):
            try:
                awards.get_tracked_challenge(current_user, challenge.id)
                out.append((_("Awards and milestones"), url_for("challenge_eval.milestones", challenge_id=challenge.id)))
            except DomainError:
                pass
        if evaluation.is_challenger(current_user, challenge) and challenge.published_at is not None:
            out.append((_("Report"), url_for("challenge_eval.report", challenge_id=challenge.id)))
        return out
    return {"challenge_eval_links": links}


def _or_abort(call, *args, **kwargs):
    """Run a read that may refuse; 403/404 become the same status (nothing is told about hidden items)."""
    try:
        return call(*args, **kwargs)
    except DomainError as exc:
        abort(404 if exc.http_status in (403, 404) else exc.http_status)


def _change(action, success: str, back: str):
    """One change in a unit of work: success flashes and redirects; a refusal flashes its message (403/404
    abort) and redirects back, changing nothing."""
    try:
        with unit_of_work():
            action()
    except DomainError as exc:
        if exc.http_status == 404:
            abort(404)
        flash_domain_error(exc)
    else:
        flash(success, "success")
    return redirect(back)


def _challenge(challenge_id: int):
    return _or_abort(evaluation.get_challenge, current_user, challenge_id)


# --- solvers: reverse matching and invitations ----------------------------------------------------------

def _inviter_challenge(challenge_id: int):
    return _or_abort(reverse_matching.require_inviter, current_user, evaluation.challenge_by_id(challenge_id))


@bp.route("/<int:challenge_id>/solvers")
@login_required
def solvers(challenge_id: int):
    challenge = _inviter_challenge(challenge_id)
    return render_template("challenges/evaluation/solvers.html", challenge=challenge,
                           candidates=reverse_matching.rank_solvers(current_user, challenge),
                           invitations=reverse_matching.invitations(challenge),
                           may_invite=challenge.status in reverse_matching.INVITABLE_STATUSES)


@bp.route("/<int:challenge_id>/solvers/invite", methods=["POST"])
@login_required
def invite(challenge_id: int):
    challenge = _inviter_challenge(challenge_id)
    return _change(lambda: reverse_matching.invite(current_user, challenge, request.form.get("organization_id"),
                                                   request.form.get("message", "")),
                   _("Invited; its members were told."), url_for(".solvers", challenge_id=challenge_id))


# --- the evaluation overview and the panel ----------------------------------------------------------------

@bp.route("/<int:challenge_id>/evaluation")
@login_required
def overview(challenge_id: int):
    challenge = _challenge(challenge_id)
    challenger = evaluation.is_challenger(current_user, challenge)
    seat = evaluation.panel_member(current_user, challenge)
    return render_template(
        "challenges/evaluation/overview.html", challenge=challenge, challenger=challenger, seat=seat,
        panel=evaluation.panel(challenge), progress=evaluation.progress(challenge) if challenger else {},
        candidates=evaluation.panel_candidates(challenge) if challenger else [],
        proposals=evaluation.evaluated_proposals(challenge),
        results=evaluation.results(challenge) if challenger else [],
        my_status=evaluation.seat_status(seat) if seat else {},
        requests=info_requests.of_challenge(challenge), awards=awards.awards_of(challenge),
        milestones=awards.milestones(challenge))


@bp.route("/<int:challenge_id>/evaluation/panel", methods=["POST"])
@login_required
def add_panel_member(challenge_id: int):
    challenge = _challenge(challenge_id)
    return _change(lambda: evaluation.add_panel_member(current_user, challenge, request.form.get("user_id"),
                                                       request.form.get("role", "evaluator")),
                   _("Added to the panel; they were told."), url_for(".overview", challenge_id=challenge_id))


@bp.route("/<int:challenge_id>/evaluation/panel/<int:seat_id>/remove", methods=["POST"])
@login_required
def remove_panel_member(challenge_id: int, seat_id: int):
    challenge = _challenge(challenge_id)
    return _change(lambda: evaluation.remove_panel_member(current_user, challenge, seat_id),
                   _("Taken off the panel."), url_for(".overview", challenge_id=challenge_id))


@bp.route("/<int:challenge_id>/evaluation/start", methods=["POST"])
@login_required
def start(challenge_id: int):
    challenge = _challenge(challenge_id)
    return _change(lambda: evaluation.start_evaluation(current_user, challenge),
                   _("The evaluation is open: the panel can declare conflicts and score."),
                   url_for(".overview", challenge_id=challenge_id))


# --- one proposal: conflict declaration and scores ---------------------------------------------------------

def _proposal_page(challenge, proposal, *, data=None, errors=None, status: int = 200):
    seat = evaluation.panel_member(current_user, challenge)
    declared = evaluation.declaration(seat, proposal) if seat else None
    mine = evaluation.own_scores(seat, proposal) if seat else {}
    return render_template("challenges/evaluation/proposal.html", challenge=challenge, proposal=proposal, seat=seat,
                           declared=declared, mine=mine, data=data or {}, errors=errors or {},
                           challenger=evaluation.is_challenger(current_user, challenge),
                           requests=info_requests.of_proposal(proposal)), status


@bp.route("/<int:challenge_id>/evaluation/proposals/<int:proposal_id>")
@login_required
def proposal(challenge_id: int, proposal_id: int):
    challenge = _challenge(challenge_id)
    return _proposal_page(challenge, _or_abort(evaluation.get_proposal, challenge, proposal_id))


@bp.route("/<int:challenge_id>/evaluation/proposals/<int:proposal_id>/declare", methods=["POST"])
@login_required
def declare(challenge_id: int, proposal_id: int):
    challenge = _challenge(challenge_id)
    item = _or_abort(evaluation.get_proposal, challenge, proposal_id)
    choice = {"yes": True, "no": False}.get(request.form.get("has_conflict", ""), None)
    try:
        with unit_of_work():
            evaluation.declare(current_user, challenge, item, choice, request.form.get("note", ""))
    except DomainError as exc:
        if exc.http_status == 404:
            abort(404)
        return _proposal_page(challenge, item, data=dict(request.form), errors=flash_domain_error(exc),
                              status=exc.http_status)
    flash(_("Declaration recorded."), "success")
    return redirect(url_for(".proposal", challenge_id=challenge_id, proposal_id=proposal_id))


@bp.route("/<int:challenge_id>/evaluation/proposals/<int:proposal_id>/score", methods=["POST"])
@login_required
def score(challenge_id: int, proposal_id: int):
    challenge = _challenge(challenge_id)
    item = _or_abort(evaluation.get_proposal, challenge, proposal_id)
    entries = {c.id: (request.form.get(f"score_{c.id}"), request.form.get(f"comment_{c.id}", ""))
               for c in challenge.criteria}
    try:
        with unit_of_work():
            evaluation.score(current_user, challenge, item, entries)
    except DomainError as exc:
        if exc.http_status == 404:
            abort(404)
        return _proposal_page(challenge, item, data=dict(request.form), errors=flash_domain_error(exc),
                              status=exc.http_status)
    flash(_("Scores sent. They are locked now."), "success")
    return redirect(url_for(".overview", challenge_id=challenge_id))


# --- deciding: shortlist, requests for more, award -------------------------------------------------------------

@bp.route("/<int:challenge_id>/evaluation/proposals/<int:proposal_id>/shortlist", methods=["POST"])
@login_required
def shortlist(challenge_id: int, proposal_id: int):
    challenge = _challenge(challenge_id)
    return _change(lambda: awards.shortlist(current_user, challenge, proposal_id, request.form.get("note", "")),
                   _("Shortlisted; the solvers were told."), url_for(".overview", challenge_id=challenge_id))


@bp.route("/<int:challenge_id>/evaluation/proposals/<int:proposal_id>/ask", methods=["POST"])
@login_required
def ask(challenge_id: int, proposal_id: int):
    challenge = _challenge(challenge_id)
    return _change(lambda: info_requests.ask(current_user, challenge, proposal_id, request.form.get("text", "")),
                   _("Request sent to the solvers."),
                   url_for(".proposal", challenge_id=challenge_id, proposal_id=proposal_id))


@bp.route("/requests/<int:request_id>", methods=["GET", "POST"])
@login_required
def info_request(request_id: int):
    item = _or_abort(info_requests.get, current_user, request_id)
    proposal = evaluation.proposal_by_id(item.proposal_id)
    errors, data = {}, {}
    if request.method == "POST":
        try:
            with unit_of_work():
                info_requests.answer(current_user, item, request.form.get("answer", ""))
            flash(_("Answer sent to the challenger."), "success")
            return redirect(url_for(".info_request", request_id=request_id))
        except DomainError as exc:
            if exc.http_status == 404:
                abort(404)
            errors, data = flash_domain_error(exc), dict(request.form)
        item = _or_abort(info_requests.get, current_user, request_id)
    return render_template("challenges/evaluation/info_request.html", item=item, proposal=proposal,
                           challenge=proposal.challenge, may_answer=info_requests.is_solver(current_user, proposal),
                           errors=errors, data=data), 400 if errors else 200


@bp.route("/<int:challenge_id>/evaluation/award", methods=["POST"])
@login_required
def award(challenge_id: int):
    challenge = _challenge(challenge_id)
    return _change(lambda: awards.award(current_user, challenge, request.form.getlist("proposal_ids"),
                                        feedback=request.form.get("feedback", ""),
                                        amount=request.form.get("amount", "")),
                   _("Awarded: an introduction is open in the deal pipeline and the milestones are set. The other "
                     "solvers got your feedback."), url_for(".milestones", challenge_id=challenge_id))


# --- milestones ------------------------------------------------------------------------------------------------

@bp.route("/<int:challenge_id>/milestones")
@login_required
def milestones(challenge_id: int):
    challenge = _or_abort(awards.get_tracked_challenge, current_user, challenge_id)
    return render_template("challenges/evaluation/milestones.html", challenge=challenge,
                           awards=awards.awards_of(challenge), milestones=awards.milestones(challenge),
                           challenger=evaluation.is_challenger(current_user, challenge),
                           solver_of=lambda m: awards.is_solver_of(current_user, m))


@bp.route("/milestones/<int:milestone_id>/deliver", methods=["POST"])
@login_required
def deliver(milestone_id: int):
    milestone = _or_abort(awards.get_milestone, current_user, milestone_id)
    return _change(lambda: awards.deliver(current_user, milestone, request.form.get("note", "")),
                   _("Reported delivered; the challenger was asked to accept it."),
                   url_for(".milestones", challenge_id=milestone.challenge_id))


@bp.route("/milestones/<int:milestone_id>/accept", methods=["POST"])
@login_required
def accept(milestone_id: int):
    milestone = _or_abort(awards.get_milestone, current_user, milestone_id)
    return _change(lambda: awards.accept(current_user, milestone), _("Milestone accepted."),
                   url_for(".milestones", challenge_id=milestone.challenge_id))


# --- reports -------------------------------------------------------------------------------------------------

@bp.route("/<int:challenge_id>/report")
@login_required
def report(challenge_id: int):
    challenge = _challenge(challenge_id)
    figures = _or_abort(reports.challenge_report, current_user, challenge)
    return render_template("challenges/evaluation/report.html", challenge=challenge, report=figures)


@bp.route("/<int:challenge_id>/report.xlsx")
@login_required
def report_xlsx(challenge_id: int):
    challenge = _challenge(challenge_id)
    table = _or_abort(reports.export_proposals, current_user, challenge)
    return send_file(BytesIO(xlsx_bytes(table)), as_attachment=True, download_name=f"{table.name}.xlsx",
                     mimetype=MIMETYPES["xlsx"])


@bp.route("/report")
@login_required
def funnel():
    result = _or_abort(reports.funnel, current_user)
    return render_template("challenges/evaluation/funnel.html", funnel=result,
                           chart=reports.funnel_chart_data(result))

"""Brokering: proposing introductions, answering them, the brokers' pipeline board, follow-ups and overdue lists."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace import vocabulary
from marketplace.models import Introduction
from marketplace.queries import brokering as brokering_q
from marketplace.queries import docking as docking_q
from marketplace.services import access, brokering, conversations
from marketplace.services.errors import DomainError
from marketplace.services.unit_of_work import unit_of_work
from marketplace.settings import current_settings
from marketplace.views.docking import party_name
from marketplace.views.helpers import flash_domain_error

bp = Blueprint("brokering", __name__, url_prefix="/brokering")
@bp.app_context_processor
def _labels():
    return {"stage_labels": vocabulary.INTRODUCTION_STAGE_LABELS,
            "response_labels": vocabulary.INTRODUCTION_RESPONSE_LABELS,
            "side_labels": vocabulary.INTRODUCTION_SIDE_LABELS}


def _back(default: str) -> str:
    """The form's ``next`` when it is a path on this site, else ``default``."""
    from marketplace.security import safe_next_url
    return safe_next_url(request.form.get("next"), default)


def _intro(intro_id: int) -> Introduction:
    """The introduction if the user may see it; 404 for everybody else."""
    try:
        return brokering_q.get_introduction(current_user, intro_id)
    except DomainError as exc:
        abort(exc.http_status)


def _act(intro_id: int, action, success: str):
    """Run one change on an introduction in a unit of work; 403/404 abort, other domain errors flash."""
    intro = _intro(intro_id)
    try:
        with unit_of_work():
            action(intro)
    except DomainError as exc:
        if exc.http_status in (403, 404):
            abort(exc.http_status)
        flash_domain_error(exc)
    else:
        flash(success, "success")
    return redirect(_back(url_for("brokering.detail", intro_id=intro_id)))


@bp.route("/propose", methods=["GET", "POST"])
@login_required
def propose():
    if not access.is_broker(current_user):
        abort(403)
    errors: dict = {}
    status = 200
    if request.method == "POST":
        form = request.form
        expiry_days = current_settings().introduction_expiry_days
        try:
            with unit_of_work():
                if form.get("suggestion_id"):
                    intro = brokering.propose_from_suggestion(current_user, form.get("suggestion_id"),
                                                              form.get("message", ""), expiry_days=expiry_days)
                else:
                    intro = brokering.propose(current_user, form.get("need_id"), form.get("offer_id"),
                                              form.get("message", ""), expiry_days=expiry_days)
        except DomainError as exc:
            if exc.http_status in (403, 404):
                abort(exc.http_status)
            errors, status = flash_domain_error(exc), 400
            if form.get("next"):
                return redirect(_back(url_for("brokering.propose")))
        else:
            flash(_("Introduction proposed: both sides are asked to accept or decline."), "success")
            return redirect(url_for("brokering.detail", intro_id=intro.id))
    data = {k: request.values.get(k, "") for k in ("need_id", "offer_id", "message")}
    return render_template("brokering/propose.html", data=data, errors=errors), status


@bp.route("/<int:intro_id>")
@login_required
def detail(intro_id: int):
    intro = _intro(intro_id)
    with unit_of_work():  # opening the page reads the conversation
        talk = docking_q.conversation_view(current_user, intro)
        if talk["readable"]:
            conversations.mark_read(current_user, intro)
    return render_template(
        "brokering/detail.html", intro=intro, history=brokering.history(current_user, intro), talk=talk,
        party_names={side: party_name(intro, side) for side in ("need", "offer")},
        can_manage=brokering.can_manage(current_user, intro), answer_sides=brokering.pending_sides(current_user, intro),
        owners=brokering.possible_owners(intro), move_targets=brokering.MOVE_TARGETS,
        expired_by_time=intro.stage == "proposed" and brokering.is_past_expiry(intro))


@bp.route("/<int:intro_id>/respond", methods=["POST"])
@login_required
def respond(intro_id: int):
    decision = request.form.get("decision", "")
    return _act(intro_id, lambda intro: brokering.respond(current_user, intro, decision,
                                                          request.form.get("reason", ""),
                                                          request.form.get("side") or None,
                                                          remote_addr=request.remote_addr or ""),
                _("Thank you: your answer was sent.") if decision == "accepted" else _("Your answer was recorded."))


@bp.route("/<int:intro_id>/stage", methods=["POST"])
@login_required
def move(intro_id: int):
    return _act(intro_id, lambda intro: brokering.move(current_user, intro, request.form.get("to_stage", ""),
                                                       request.form.get("reason", ""),
                                                       from_stage=request.form.get("from_stage") or None,
                                                       remote_addr=request.remote_addr or ""),
                _("Stage changed."))


@bp.route("/<int:intro_id>/value", methods=["POST"])
@login_required
def deal_value(intro_id: int):
    return _act(intro_id, lambda intro: brokering.set_deal_value(current_user, intro,
                                                                 request.form.get("deal_value_rmb", ""),
                                                                 expected_version=request.form.get("version")),
                _("Deal value saved."))


@bp.route("/<int:intro_id>/tasks", methods=["POST"])
@login_required
def add_task(intro_id: int):
    return _act(intro_id, lambda intro: brokering.add_task(current_user, intro, request.form.to_dict()),
                _("Follow-up added."))


@bp.route("/<int:intro_id>/tasks/<int:task_id>/done", methods=["POST"])
@login_required
def complete_task(intro_id: int, task_id: int):
    try:
        task = brokering.get_task(current_user, intro_id, task_id)
    except DomainError as exc:
        abort(exc.http_status)
    return _act(intro_id, lambda intro: brokering.complete_task(current_user, task), _("Follow-up done."))


@bp.route("/board")
@login_required
def board():
    try:
        grouped = brokering.board(current_user)
    except DomainError as exc:
        abort(exc.http_status)
    return render_template("brokering/board.html", grouped=grouped, totals=brokering.pipeline_totals(grouped),
                           move_targets=brokering.MOVE_TARGETS, all_brokers=access.is_staff(current_user))


@bp.route("/mine")
@login_required
def mine():
    items = brokering.involving_my_organizations(current_user)
    answerable = {i.id: brokering.pending_sides(current_user, i) for i in items}
    return render_template("brokering/mine.html", items=items, answerable=answerable)


@bp.route("/overdue")
@login_required
def overdue():
    try:
        tasks = brokering.overdue(current_user)
    except DomainError as exc:
        abort(exc.http_status)
    return render_template("brokering/overdue.html", tasks=tasks, all_brokers=access.is_staff(current_user))

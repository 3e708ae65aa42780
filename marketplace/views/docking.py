"""Docking pages: request an introduction from anywhere, My docking, the conversation and its files."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.extensions import limiter
from marketplace.i18n import current_lang
from marketplace.models.brokering import REQUEST_PURPOSES
from marketplace.queries import brokering as brokering_q
from marketplace.queries import docking as docking_q
from marketplace.services import conversations, docking
from marketplace.services.errors import DomainError
from marketplace.services.notifications import organization_name
from marketplace.services.unit_of_work import unit_of_work
from marketplace.settings import current_settings
from marketplace.views.helpers import flash_domain_error
from marketplace.views.uploads import file_store as upload_store
from marketplace.vocabulary import REQUEST_PURPOSE_LABELS

bp = Blueprint("docking", __name__, url_prefix="/docking")
TARGETS = ("offer_id", "need_id", "organization_id")
POLL_SECONDS = 10


def _target_args(source) -> dict:
    return {key: source.get(key) for key in TARGETS if source.get(key)}


def _intro(intro_id: int):
    try:
        return brokering_q.get_introduction(current_user, intro_id)
    except DomainError as exc:
        abort(exc.http_status)


@bp.route("/request", methods=["GET", "POST"])
@login_required
def request_form():
    """The short request form (purpose, message, what it concerns); a visitor logs in and comes back here."""
    source = request.form if request.method == "POST" else request.args
    target = _target_args(source)
    if len(target) != 1:
        abort(404)
    organizations = docking_q.organizations_of(current_user)
    chosen = source.get("as_organization_id") or (organizations[0].id if len(organizations) == 1 else None)
    try:
        chosen = int(chosen) if chosen else None
    except ValueError:
        chosen = None
    own_needs, own_offers = docking_q.own_items(current_user, chosen) if chosen else ([], [])
    errors, status = {}, 200
    if request.method == "POST":
        form = request.form
        try:
            with unit_of_work():
                intro = docking.request_introduction(
                    current_user, **target, as_organization_id=form.get("as_organization_id"),
                    own_need_id=form.get("own_need_id") or None, own_offer_id=form.get("own_offer_id") or None,
                    purpose=form.get("purpose", ""), message=form.get("message", ""),
                    mediation=form.get("mediation") == "1",
                    expiry_days=current_settings().introduction_expiry_days,
                    unverified_may_request=current_settings().unverified_may_request_introductions)
                intro_id = intro.id
        except DomainError as exc:
            if exc.http_status == 404:
                abort(404)
            errors, status = flash_domain_error(exc), 400 if exc.http_status != 409 else 409
        else:
            flash(_("Your request was sent. The other side is asked to accept or decline."), "success")
            return redirect(url_for("brokering.detail", intro_id=intro_id))
    subject = docking_q.request_subject(current_user, **target)
    if subject is None:
        abort(404)
    return render_template("docking/request.html", target=target, subject=subject, data=source,
                           errors=errors, organizations=organizations, chosen=chosen, own_needs=own_needs,
                           own_offers=own_offers, purposes=[(p, REQUEST_PURPOSE_LABELS[p]) for p in REQUEST_PURPOSES]
                           ), status


@bp.route("/")
@login_required
def mine():
    """My docking: requests sent and received, conversations with unread counts, introductions by stage."""
    return render_template("docking/mine.html", docking=docking_q.my_docking(current_user))


@bp.route("/introductions/<int:intro_id>/messages", methods=["POST"])
@login_required
@limiter.limit("30 per minute", methods=["POST"])
def post_message(intro_id: int):
    intro = _intro(intro_id)
    file = request.files.get("file")
    data = file.stream.read(upload_store().max_bytes("attachment") + 1) if file and file.filename else b""
    try:
        with unit_of_work():
            conversations.post(current_user, intro, request.form.get("body", ""), store=upload_store(),
                               filename=file.filename if file else "", data=data)
    except DomainError as exc:
        if exc.http_status == 404:
            abort(404)
        flash_domain_error(exc)
        return redirect(url_for("brokering.detail", intro_id=intro_id) + "#conversation"), 303
    return redirect(url_for("brokering.detail", intro_id=intro_id) + "#conversation")


@bp.route("/introductions/<int:intro_id>/messages.json")
@login_required
def poll_messages(intro_id: int):
    """New messages after ``after`` for the open thread (the page asks every few seconds); marks them read."""
    intro = _intro(intro_id)
    try:
        after = max(0, min(int(request.args.get("after", 0)), 2 ** 31))
    except ValueError:
        after = 0
    try:
        with unit_of_work():
            rows = conversations.messages(current_user, intro, after_id=after)
            if rows:
                conversations.mark_read(current_user, intro, rows[-1].id)
            body = [_message_json(m) for m in rows]
    except DomainError as exc:
        abort(exc.http_status)
    return jsonify({"messages": body, "poll_seconds": POLL_SECONDS})


def _message_json(message) -> dict:
    """A message for the page's script (text only: the script inserts it as text, never as HTML)."""
    return {"id": message.id, "side": message.side, "body": message.body,
            "author": message.author.display_name if message.author else "",
            "mine": message.author_id == current_user.id, "created_at": message.created_at.isoformat(),
            "file": ({"name": message.attachment.original_name,
                      "url": url_for("docking.message_file", message_id=message.id)}
                     if message.attachment else None)}


@bp.route("/messages/<int:message_id>/file")
@login_required
def message_file(message_id: int):
    try:
        stored, path = conversations.attachment_of(current_user, message_id, upload_store())
    except DomainError as exc:
        abort(exc.http_status)
    response = send_file(path, mimetype=stored.content_type, as_attachment=True, download_name=stored.original_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/messages/<int:message_id>/report", methods=["POST"])
@login_required
def report_message(message_id: int):
    try:
        with unit_of_work():
            message = conversations.get_message(current_user, message_id)
            intro_id = message.introduction_id
            conversations.report(current_user, message, request.form.get("reason", ""))
    except DomainError as exc:
        if exc.http_status == 404:
            abort(404)
        flash_domain_error(exc)
        return redirect(request.referrer or url_for("docking.mine"))
    flash(_("Thank you: the operators will look at this message."), "success")
    return redirect(url_for("brokering.detail", intro_id=intro_id) + "#conversation")


@bp.route("/introductions/<int:intro_id>/join", methods=["POST"])
@login_required
def join(intro_id: int):
    """A technology manager takes on a member's request to mediate and follow it."""
    intro = _intro(intro_id)
    try:
        with unit_of_work():
            docking.join_as_broker(current_user, intro)
    except DomainError as exc:
        if exc.http_status in (403, 404):
            abort(exc.http_status)
        flash_domain_error(exc)
    else:
        flash(_("You now follow this introduction as its technology manager."), "success")
    return redirect(url_for("brokering.detail", intro_id=intro_id))


def party_name(intro, side: str) -> str:
    """A side's organisation name as pages may show it (hidden while a mediated-only side has not accepted)."""
    name = organization_name(intro, side)
    return name["en"] if current_lang() == "en" else name["zh"]


def can_join(intro) -> bool:
    """May the reader take this introduction on as its technology manager? (Asked apart from the conversation:
    a technology manager who has not joined yet cannot read it, but must see the join button.)"""
    return docking.can_join(current_user, intro)


def purpose_label(code) -> str:
    return str(REQUEST_PURPOSE_LABELS.get(code, "")) if code else ""


@bp.app_context_processor
def _docking_helpers():
    return {"docking_waiting": lambda: docking_q.waiting_count(current_user), "poll_seconds": POLL_SECONDS,
            "party_name": party_name, "purpose_label": purpose_label, "can_join": can_join}

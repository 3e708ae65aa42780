"""Access requests to teaser details, NDA texts and acceptances, and the owner's access log (issue 6, item 4)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.services import confidentiality as conf
from marketplace.services.errors import DomainError
from marketplace.services.unit_of_work import unit_of_work
from marketplace.views.helpers import flash_domain_error

bp = Blueprint("confidentiality", __name__, url_prefix="/confidentiality")

ITEM = "<any(offer, need, challenge):item_type>/<int:item_id>"


def _detail_url(item_type: str, item_id: int) -> str:
    if item_type == "offer":
        return url_for("catalogue.detail", offer_id=item_id)
    if item_type == "challenge":
        return url_for("challenges.detail", challenge_id=item_id)
    return url_for("needs.detail", need_id=item_id)


def _item(item_type: str, item_id: int):
    try:
        return conf.get_item(current_user, item_type, item_id)
    except DomainError as exc:
        abort(exc.http_status)


@bp.route(f"/{ITEM}/request", methods=["POST"])
@login_required
def request_access(item_type: str, item_id: int):
    item = _item(item_type, item_id)
    try:
        org_id = int(request.form.get("organization_id") or 0) or None
    except ValueError:
        abort(400)
    try:
        with unit_of_work():
            conf.request_access(current_user, item, request.form.get("message", ""), org_id)
    except DomainError as exc:
        flash_domain_error(exc)
        if exc.http_status in (403, 404):
            abort(exc.http_status)
    else:
        flash(_("Your request was sent to the owner."), "success")
    return redirect(_detail_url(item_type, item_id))


@bp.route(f"/{ITEM}/nda/accept", methods=["POST"])
@login_required
def accept_nda(item_type: str, item_id: int):
    item = _item(item_type, item_id)
    if not request.form.get("agree"):
        flash(_("Tick the box to accept the NDA."), "warning")
        return redirect(_detail_url(item_type, item_id))
    try:
        with unit_of_work():
            conf.accept_nda(current_user, item, remote_addr=request.remote_addr or "")
    except DomainError as exc:
        abort(exc.http_status)
    flash(_("NDA accepted."), "success")
    return redirect(_detail_url(item_type, item_id))


@bp.route(f"/{ITEM}/nda", methods=["GET", "POST"])
@login_required
def nda(item_type: str, item_id: int):
    item = _item(item_type, item_id)
    if not conf.can_manage(current_user, item):
        abort(403)
    errors: dict = {}
    data = conf.nda_form_values(item)
    if request.method == "POST":
        data = {k: request.form.get(k, "") for k in ("nda_text_zh", "nda_text_en")}
        try:
            with unit_of_work():
                conf.set_nda(current_user, item, data)
        except DomainError as exc:
            errors = flash_domain_error(exc)
        else:
            flash(_("NDA text saved."), "success")
            return redirect(url_for("confidentiality.item_log", item_type=item_type, item_id=item_id))
    return render_template("confidentiality/nda.html", item=item, item_type=item_type, data=data, errors=errors,
                           detail_url=_detail_url(item_type, item_id)), (400 if errors else 200)


@bp.route(f"/{ITEM}/log")
@login_required
def item_log(item_type: str, item_id: int):
    item = _item(item_type, item_id)
    try:
        entries = conf.access_log(current_user, item)
        requests = conf.requests_for_item(current_user, item)
    except DomainError as exc:
        abort(exc.http_status)
    return render_template("confidentiality/log.html", item=item, item_type=item_type, entries=entries,
                           requests=requests, nda=conf.nda_for(item), detail_url=_detail_url(item_type, item_id))


@bp.route("/requests")
@login_required
def requests_page():
    incoming = conf.incoming_requests(current_user)
    outgoing = conf.outgoing_requests(current_user)
    return render_template("confidentiality/requests.html", incoming=incoming, outgoing=outgoing,
                           items=conf.items_for(incoming + outgoing), detail_url=_detail_url)


@bp.route("/requests/<int:request_id>/decide", methods=["POST"])
@login_required
def decide(request_id: int):
    try:
        with unit_of_work():
            req = conf.decide(current_user, request_id, request.form.get("decision", ""),
                              remote_addr=request.remote_addr or "")
    except DomainError as exc:
        if exc.http_status in (403, 404):
            abort(exc.http_status)
        flash_domain_error(exc)
        return redirect(url_for("confidentiality.requests_page"))
    flash(_("Request approved.") if req.status == "approved" else _("Request declined."), "info")
    from marketplace.security import safe_next_url
    return redirect(safe_next_url(request.form.get("next"), url_for("confidentiality.requests_page")))

"""Supply-chain pages: a manufacturer's product chains with their inputs and suppliers' statuses (blocked first,
counts at a glance), the sub-park's and operators' view of them, and turning a blocked input into a need."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.queries import supply_chains as chains_q
from marketplace.services.errors import DomainError
from marketplace.services.policy import posts
from marketplace.services.policy import supply_chains as chains
from marketplace.services.unit_of_work import unit_of_work
from marketplace.services.versions import StaleEdit
from marketplace.settings import current_settings
from marketplace.views.helpers import flash_domain_error, flash_stale_edit, form_dict

bp = Blueprint("supply_chains", __name__, url_prefix="/supply-chains")


def _today():
    return datetime.now(ZoneInfo(current_settings().default_timezone)).date()


@bp.route("/", methods=["GET", "POST"])
@login_required
def index():
    """Every chain the person may see (their organisations', their sub-parks', all for operators); members
    start a new one here."""
    viewer = posts.viewer(current_user)
    orgs = current_user.organizations
    if not orgs and not viewer.sub_parks and not viewer.is_staff:
        abort(404)
    errors, data = {}, {}
    if request.method == "POST":
        data = form_dict(request.form)
        org = next((o for o in orgs if str(o.id) == data.get("org")), orgs[0] if orgs else None)
        if org is None:
            abort(404)
        try:
            with unit_of_work():
                chain_id = chains.create_chain(current_user, org, data).id
            flash(_("The supply chain was created. Add its inputs and their suppliers."), "success")
            return redirect(url_for("supply_chains.detail", chain_id=chain_id))
        except DomainError as exc:
            errors = flash_domain_error(exc)
    return render_template("supply_chains/index.html", rows=chains_q.chains_for(viewer), orgs=orgs, data=data,
                           errors=errors)


def _detail_page(chain, *, data=None, errors=None, status=200):
    return render_template("supply_chains/detail.html", chain=chain, inputs=chains.ordered_inputs(chain.inputs),
                           counts=chains.status_counts(chain.inputs), can_edit=chains.can_edit(current_user, chain),
                           reports=chains_q.linked_reports(chain.id), data=data or {}, errors=errors or {},
                           suppliers=chains_q.supplier_choices(chain.organization_id) if chains.can_edit(
                               current_user, chain) else [], today=_today()), status


@bp.route("/<int:chain_id>")
@login_required
def detail(chain_id: int):
    try:
        chains.get_chain(current_user, chain_id)
    except DomainError:
        abort(404)
    return _detail_page(chains_q.chain_with_inputs(chain_id))


@bp.route("/<int:chain_id>/inputs", methods=["POST"])
@login_required
def add_input(chain_id: int):
    try:
        chain = chains.get_chain(current_user, chain_id)
    except DomainError:
        abort(404)
    data = form_dict(request.form)
    try:
        with unit_of_work():
            chains.add_input(current_user, chain, data, today=_today())
        flash(_("The input was added."), "success")
        return redirect(url_for("supply_chains.detail", chain_id=chain_id))
    except DomainError as exc:
        if exc.http_status == 404:
            abort(404)
        errors = flash_domain_error(exc)
    return _detail_page(chains_q.chain_with_inputs(chain_id), data=data, errors=errors)


@bp.route("/inputs/<int:input_id>/status", methods=["POST"])
@login_required
def set_status(input_id: int):
    try:
        chain_id = chains.get_input(current_user, input_id).chain_id
    except DomainError:
        abort(404)
    try:
        with unit_of_work():
            chains.set_status(current_user, input_id, form_dict(request.form), today=_today())
        flash(_("The supplier's status was saved."), "success")
    except StaleEdit as exc:
        flash_stale_edit(exc)
    except DomainError as exc:
        if exc.http_status == 404:
            abort(404)
        flash_domain_error(exc)
    return redirect(url_for("supply_chains.detail", chain_id=chain_id, _anchor=f"input-{input_id}"))


@bp.route("/inputs/<int:input_id>/need", methods=["POST"])
@login_required
def post_need(input_id: int):
    try:
        chain_id = chains.get_input(current_user, input_id).chain_id
    except DomainError:
        abort(404)
    try:
        with unit_of_work():
            chains.post_need(current_user, input_id)
        flash(_("The input is now an open need on the marketplace: other suppliers and the sub-park see it."),
              "success")
    except DomainError as exc:
        if exc.http_status == 404:
            abort(404)
        flash_domain_error(exc)
    return redirect(url_for("supply_chains.detail", chain_id=chain_id, _anchor=f"input-{input_id}"))

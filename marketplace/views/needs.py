"""Needs: public list and pages, and members' posting, editing, publishing, closing and reopening."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace import page_cache
from marketplace.models.needs import NEED_KINDS
from marketplace.queries import needs as needs_q
from marketplace.queries import taxonomy
from marketplace.queries.paging import site_per_page
from marketplace.services import access, needs as need_service
from marketplace.services.errors import DomainError
from marketplace.services.needs import NEED_KIND_SECTIONS
from marketplace.services.unit_of_work import unit_of_work
from marketplace.views.edit_forms import versioned_edit
from marketplace.views.helpers import abort_for, flash_domain_error, form_dict, page_arg

bp = Blueprint("needs", __name__, url_prefix="/needs")
LIST_KEYS = ("required_certifications", "field_codes")


@bp.route("/")
@page_cache.anonymous_page
def index():
    kind = request.args.get("kind")
    page = page_arg()
    found = needs_q.list_needs(current_user, statuses=("open",), kind=kind if kind in NEED_KINDS else None,
                               page=page, per_page=site_per_page())
    return render_template("needs/index.html", needs=found.items, total=found.total, page=page,
                           per_page=found.per_page, kind=kind)


@bp.route("/mine")
@login_required
def mine():
    items = needs_q.needs_of_organizations(current_user.org_ids)
    return render_template("needs/mine.html", needs=items)


@bp.route("/<int:need_id>")
@page_cache.anonymous_page(item=True)
def detail(need_id: int):
    try:
        need = needs_q.get_need(current_user, need_id, for_page=True)
    except DomainError as exc:
        abort(exc.http_status)
    from marketplace.services import confidentiality, matching
    can_judge = current_user.is_authenticated and (access.is_member_of(current_user, need.organization_id)
                                                   or access.is_broker(current_user))
    # The page is drawn before the commit (which would expire the rows the template reads, reloading them).
    with unit_of_work():
        details = confidentiality.open_details(current_user, need, remote_addr=request.remote_addr or "")
        if details.logged:
            page_cache.skip()  # each view is written to the access log
        return render_template(
            "needs/detail.html", need=confidentiality.safe_view(current_user, need, details=details),
            can_edit=access.can_edit_need(current_user, need),
            suggestions=matching.suggestions_for_need(current_user, need), can_judge=can_judge,
            decisions=matching.user_decisions(current_user, need),
            details=details, can_manage_confidentiality=confidentiality.is_owner(current_user, need))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    kind = request.values.get("kind")
    orgs = [m.organization for m in current_user.memberships]
    if not orgs:
        flash(_("Create or join an organisation before posting needs."), "warning")
        return redirect(url_for("account.dashboard"))
    if kind not in NEED_KINDS:
        return render_template("needs/choose_kind.html")
    errors: dict = {}
    if request.method == "POST":
        data = form_dict(request.form, LIST_KEYS)
        try:
            with unit_of_work():
                need = need_service.create_need(current_user, int(data.get("organization_id") or orgs[0].id),
                                                kind, data, publish=data.get("action") != "draft")
        except DomainError as exc:
            errors = flash_domain_error(exc)
        except ValueError:
            abort(400)
        else:
            flash(_("Need posted."), "success")
            return redirect(url_for("needs.detail", need_id=need.id))
    # "Post this as a need" from an empty search arrives with the search words as the title
    data = form_dict(request.form, LIST_KEYS) if request.method == "POST" else {
        "title_zh": (request.args.get("title") or "").strip()[:200]}
    return render_template("needs/form.html", kind=kind, need=None, data=data,
                           errors=errors, sections=NEED_KIND_SECTIONS[kind], orgs=orgs, fields=taxonomy.field_tree()), \
        (400 if errors else 200)


@bp.route("/<int:need_id>/edit", methods=["GET", "POST"])
@login_required
def edit(need_id: int):
    try:
        need = access.require_need_edit(current_user, needs_q.get_need(current_user, need_id))
    except DomainError as exc:
        abort(exc.http_status)
    return versioned_edit(
        need.version, form_values=lambda: need_service.need_form_values(need),
        read_form=lambda: form_dict(request.form, LIST_KEYS),
        save=lambda data, version: need_service.update_need(current_user, need, data, expected_version=version),
        saved=_("Changes saved."), next_url=url_for("needs.detail", need_id=need.id),
        render=lambda data, errors, status: (render_template(
            "needs/form.html", kind=need.kind, need=need, data=data, errors=errors,
            sections=NEED_KIND_SECTIONS[need.kind], orgs=[need.organization], fields=taxonomy.field_tree()), status))


@bp.route("/<int:need_id>/close", methods=["POST"])
@login_required
def close(need_id: int):
    try:
        with unit_of_work():
            need_service.close_need(current_user, needs_q.get_need(current_user, need_id),
                                    request.form.get("reason", ""))
    except DomainError as exc:
        abort(exc.http_status)
    flash(_("Need closed."), "info")
    return redirect(url_for("needs.detail", need_id=need_id))


def _change_status(need_id: int, action, done: str):
    """Run a status change on the need; a refusal or a wrong state is an error page with the reason."""
    try:
        with unit_of_work():
            action(current_user, needs_q.get_need(current_user, need_id))
    except DomainError as exc:
        abort_for(exc)
    flash(done, "success")
    return redirect(url_for("needs.detail", need_id=need_id))


@bp.route("/<int:need_id>/publish", methods=["POST"])
@login_required
def publish(need_id: int):
    return _change_status(need_id, need_service.publish, _("Need published."))


@bp.route("/<int:need_id>/reopen", methods=["POST"])
@login_required
def reopen(need_id: int):
    return _change_status(need_id, need_service.reopen, _("Need reopened."))

"""Needs: public list and pages, and members' posting, editing and closing."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Field, Need
from marketplace.models.needs import NEED_KINDS
from marketplace.services import access, needs as need_service
from marketplace.services.errors import DomainError
from marketplace.services.needs import NEED_KIND_SECTIONS
from marketplace.services.unit_of_work import unit_of_work
from marketplace.views.helpers import flash_domain_error, form_dict, page_arg

bp = Blueprint("needs", __name__, url_prefix="/needs")
LIST_KEYS = ("required_certifications", "field_codes")


def _field_tree() -> list[Field]:
    return list(db.session.scalars(select(Field).where(Field.parent_id.is_(None)).order_by(Field.sort_order)))


@bp.route("/")
def index():
    query = select(Need).where(access.need_visibility_clause(current_user), Need.status == "open")
    kind = request.args.get("kind")
    if kind in NEED_KINDS:
        query = query.where(Need.kind == kind)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = page_arg()
    items = list(db.session.scalars(query.order_by(Need.created_at.desc(), Need.id.desc())
                                    .offset((page - 1) * 20).limit(20)))
    return render_template("needs/index.html", needs=items, total=total, page=page, per_page=20, kind=kind)


@bp.route("/mine")
@login_required
def mine():
    items = list(db.session.scalars(select(Need).where(Need.organization_id.in_(current_user.org_ids or {0}))
                                    .order_by(Need.updated_at.desc())))
    return render_template("needs/mine.html", needs=items)


@bp.route("/<int:need_id>")
def detail(need_id: int):
    try:
        need = access.require_need_view(current_user, db.session.get(Need, need_id))
    except DomainError as exc:
        abort(exc.http_status)
    from marketplace.services import confidentiality, matching
    with unit_of_work():
        details = confidentiality.open_details(current_user, need, remote_addr=request.remote_addr or "")
    can_judge = current_user.is_authenticated and (access.is_member_of(current_user, need.organization_id)
                                                   or access.is_broker(current_user))
    return render_template("needs/detail.html", need=confidentiality.safe_view(current_user, need, details=details),
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
    return render_template("needs/form.html", kind=kind, need=None, data=form_dict(request.form, LIST_KEYS),
                           errors=errors, sections=NEED_KIND_SECTIONS[kind], orgs=orgs, fields=_field_tree()), \
        (400 if errors else 200)


@bp.route("/<int:need_id>/edit", methods=["GET", "POST"])
@login_required
def edit(need_id: int):
    need = db.session.get(Need, need_id)
    try:
        access.require_need_edit(current_user, need)
    except DomainError as exc:
        abort(exc.http_status)
    errors: dict = {}
    if request.method == "POST":
        data = form_dict(request.form, LIST_KEYS)
        try:
            with unit_of_work():
                need_service.update_need(current_user, need, data)
        except DomainError as exc:
            errors = flash_domain_error(exc)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("needs.detail", need_id=need.id))
    data = form_dict(request.form, LIST_KEYS) if request.method == "POST" else need_service.need_form_values(need)
    return render_template("needs/form.html", kind=need.kind, need=need, data=data, errors=errors,
                           sections=NEED_KIND_SECTIONS[need.kind], orgs=[need.organization], fields=_field_tree()), \
        (400 if errors else 200)


@bp.route("/<int:need_id>/close", methods=["POST"])
@login_required
def close(need_id: int):
    need = db.session.get(Need, need_id)
    try:
        with unit_of_work():
            need_service.close_need(current_user, access.require_need_view(current_user, need),
                                    request.form.get("reason", ""))
    except DomainError as exc:
        abort(exc.http_status)
    flash(_("Need closed."), "info")
    return redirect(url_for("needs.detail", need_id=need_id))

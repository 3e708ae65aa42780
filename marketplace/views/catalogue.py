"""Public catalogue of offers, and members' drafting of their own offers."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Batch, Field, Offer
from marketplace.models.catalogue import OFFER_KINDS
from marketplace.services import access, offers as offer_service
from marketplace.services.errors import DomainError
from marketplace.services.offers import KIND_SECTIONS
from marketplace.services.unit_of_work import unit_of_work
from marketplace.views.helpers import flash_domain_error, form_dict, page_arg

bp = Blueprint("catalogue", __name__, url_prefix="/offers")

LIST_KEYS = ("regulatory_statuses", "partnership_modes", "field_codes", "transfer_modes", "invest_stages")


@bp.route("/")
def index():
    query = select(Offer).where(access.offer_visibility_clause(current_user), Offer.status == "published")
    kind = request.args.get("kind")
    if kind in OFFER_KINDS:
        query = query.where(Offer.kind == kind)
    batch_number = request.args.get("batch", type=int)
    if batch_number:
        query = query.join(Batch).where(Batch.number == batch_number)
    field_code = request.args.get("field")
    if field_code:
        field = db.session.scalar(select(Field).where(Field.code == field_code))
        if field is not None:
            codes = [field.id] + [c.id for c in field.children]
            query = query.where(Offer.fields.any(Field.id.in_(codes)))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = page_arg()
    per_page = 20
    items = list(db.session.scalars(query.order_by(Offer.published_at.desc().nulls_last(), Offer.id.desc())
                                    .offset((page - 1) * per_page).limit(per_page)))
    return render_template("catalogue/index.html", offers=items, total=total, page=page, per_page=per_page,
                           kind=kind)


@bp.route("/<int:offer_id>")
def detail(offer_id: int):
    try:
        offer = access.require_offer_view(current_user, db.session.get(Offer, offer_id))
    except DomainError as exc:
        abort(exc.http_status)
    return render_template("catalogue/detail.html", offer=offer,
                           can_edit=access.can_edit_offer(current_user, offer))


def _field_tree() -> list[Field]:
    return list(db.session.scalars(select(Field).where(Field.parent_id.is_(None)).order_by(Field.sort_order)))


def _org_choices() -> list:
    return [m.organization for m in current_user.memberships]


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():
    kind = request.values.get("kind")
    orgs = _org_choices()
    if not orgs:
        flash(_("Create or join an organisation before listing offers."), "warning")
        return redirect(url_for("account.dashboard"))
    if kind not in OFFER_KINDS:
        return render_template("catalogue/choose_kind.html")
    errors: dict = {}
    if request.method == "POST":
        data = form_dict(request.form, LIST_KEYS)
        try:
            with unit_of_work():
                offer = offer_service.create_offer(current_user, int(data.get("organization_id") or orgs[0].id),
                                                   kind, data)
                if data.get("action") == "submit":
                    offer_service.submit_offer(current_user, offer)
        except DomainError as exc:
            errors = flash_domain_error(exc)
        except ValueError:
            abort(400)
        else:
            flash(_("Submitted for verification.") if offer.status == "submitted" else _("Draft saved."),
                  "success")
            return redirect(url_for("catalogue.detail", offer_id=offer.id))
    return render_template("catalogue/form.html", kind=kind, offer=None, data=form_dict(request.form, LIST_KEYS),
                           errors=errors, sections=KIND_SECTIONS[kind], orgs=orgs, fields=_field_tree()), \
        (400 if errors else 200)


@bp.route("/<int:offer_id>/edit", methods=["GET", "POST"])
@login_required
def edit(offer_id: int):
    offer = db.session.get(Offer, offer_id)
    try:
        access.require_offer_edit(current_user, offer)
    except DomainError as exc:
        abort(exc.http_status)
    errors: dict = {}
    if request.method == "POST":
        data = form_dict(request.form, LIST_KEYS)
        try:
            with unit_of_work():
                offer_service.update_offer(current_user, offer, data)
                if data.get("action") == "submit":
                    offer_service.submit_offer(current_user, offer)
        except DomainError as exc:
            errors = flash_domain_error(exc)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("catalogue.detail", offer_id=offer.id))
    data = form_dict(request.form, LIST_KEYS) if request.method == "POST" else offer_service.offer_form_values(offer)
    return render_template("catalogue/form.html", kind=offer.kind, offer=offer, data=data, errors=errors,
                           sections=KIND_SECTIONS[offer.kind], orgs=_org_choices(), fields=_field_tree()), \
        (400 if errors else 200)


@bp.route("/<int:offer_id>/submit", methods=["POST"])
@login_required
def submit(offer_id: int):
    offer = db.session.get(Offer, offer_id)
    try:
        with unit_of_work():
            offer_service.submit_offer(current_user, access.require_offer_view(current_user, offer))
    except DomainError as exc:
        abort(exc.http_status)
    flash(_("Submitted for verification."), "success")
    return redirect(url_for("catalogue.detail", offer_id=offer_id))

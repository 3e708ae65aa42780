"""Public catalogue of offers, and members' drafting of their own offers."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from marketplace import search_index
from marketplace.extensions import db
from marketplace.models import Batch, Field, Offer
from marketplace.models.catalogue import OFFER_KINDS
from marketplace.security import limit_from_config
from marketplace.services import access, offers as offer_service
from marketplace.services.errors import DomainError
from marketplace.services.offers import KIND_SECTIONS
from marketplace.services.unit_of_work import unit_of_work
from marketplace.views.helpers import flash_domain_error, form_dict, page_arg
from marketplace.vocabulary import label
from search import SearchQuery, SearchUnavailable

bp = Blueprint("catalogue", __name__, url_prefix="/offers")

LIST_KEYS = ("regulatory_statuses", "partnership_modes", "field_codes", "transfer_modes", "invest_stages")


FACET_PARAMS = ("kind", "direction", "field", "batch", "trl", "regulatory", "partnership", "sub_park", "org_kind")
SORTS = {"relevance": (), "newest": ("published_at:desc",), "maturity": ("trl:desc",), "title": ("title_en:asc",),
         "value": ("value_score:desc",)}


@bp.route("/")
def index():
    """Catalogue with facets, sorting and full-text search through the search library."""
    q = (request.args.get("q") or "").strip()[:200]
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else "relevance"
    # Without words to rank by, "relevance" means newest first.
    effective_sort = "newest" if (sort == "relevance" and not q) else sort
    filters = {"status": ["published"]}
    for name in FACET_PARAMS:
        values = [v for v in request.args.getlist(name) if v][:20]
        if values:
            filters[name] = values
    page = page_arg()
    query = SearchQuery(q=q, filters=filters, facets=list(FACET_PARAMS), sort=list(SORTS[effective_sort]),
                        page=page, per_page=20, highlight=bool(q))
    try:
        result = search_index.search("offers", query, current_user)
    except SearchUnavailable:
        flash(_("Search is temporarily unavailable; showing the catalogue without text search."), "warning")
        return _fallback_listing(page)
    offers = {o.id: o for o in db.session.scalars(select(Offer).where(Offer.id.in_([int(i) for i in result.ids]))
                                                  .options(joinedload(Offer.organization), joinedload(Offer.batch)))}
    hits = [(offers[int(h.id)], h.highlights) for h in result.hits if int(h.id) in offers]
    return render_template("catalogue/index.html", hits=hits, result=result, q=q, sort=sort, sorts=list(SORTS),
                           selected={k: request.args.getlist(k) for k in FACET_PARAMS},
                           facet_labels=_facet_labels(result.facets), page=page)


def _fallback_listing(page: int):
    query = select(Offer).where(access.offer_visibility_clause(current_user), Offer.status == "published")
    kind = request.args.get("kind")
    if kind in OFFER_KINDS:
        query = query.where(Offer.kind == kind)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    items = list(db.session.scalars(query.order_by(Offer.published_at.desc().nulls_last(), Offer.id.desc())
                                    .offset((page - 1) * 20).limit(20)))
    return render_template("catalogue/index.html", hits=[(o, {}) for o in items], result=None, total=total,
                           q="", sort="newest", sorts=list(SORTS), selected={}, facet_labels={}, page=page)


def _facet_labels(facets: dict) -> dict[str, dict[str, str]]:
    """Human labels for facet values in the viewer's language."""
    from marketplace.i18n import current_lang
    lang = current_lang()
    codes = set(facets.get("direction", {})) | set(facets.get("field", {}))
    fields = {f.code: f.name(lang) for f in db.session.scalars(select(Field).where(Field.code.in_(codes)))} if codes else {}
    numbers = [int(n) for n in facets.get("batch", {}) if n.isdigit()]
    batches = {str(b.number): b.title(lang) for b in
               db.session.scalars(select(Batch).where(Batch.number.in_(numbers)))} if numbers else {}
    groups = {"kind": "offer_kind", "regulatory": "regulatory", "partnership": "partnership",
              "sub_park": "sub_park", "org_kind": "org_kind", "trl": "trl"}
    labels: dict[str, dict[str, str]] = {}
    for name, counts in facets.items():
        if name in ("direction", "field"):
            labels[name] = {v: fields.get(v, v) for v in counts}
        elif name == "batch":
            labels[name] = {v: batches.get(v, v) for v in counts}
        else:
            labels[name] = {v: label(groups.get(name, name), v) for v in counts}
    return labels


@bp.route("/suggest")
@limit_from_config("SUGGEST_RATE_LIMIT")
def suggest():
    """Titles as you type (JSON), limited to what the viewer may see."""
    prefix = (request.args.get("q") or "").strip()[:100]
    if not prefix:
        return jsonify([])
    try:
        return jsonify(search_index.suggest("offers", prefix, current_user))
    except SearchUnavailable:
        return jsonify([])


@bp.route("/batches")
def batches():
    rows = db.session.execute(select(Batch, func.count(Offer.id)).join(Offer, Offer.batch_id == Batch.id, isouter=True)
                              .where(Batch.published_on.is_not(None)).group_by(Batch.id)
                              .order_by(Batch.number.desc())).all()
    return render_template("catalogue/batches.html", rows=rows)


@bp.route("/batches/<int:number>")
def batch(number: int):
    batch_row = db.session.scalar(select(Batch).where(Batch.number == number))
    if batch_row is None:
        abort(404)
    page = page_arg()
    query = select(Offer).where(Offer.batch_id == batch_row.id, Offer.status == "published",
                                access.offer_visibility_clause(current_user))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    items = list(db.session.scalars(query.order_by(Offer.id).offset((page - 1) * 30).limit(30)))
    return render_template("catalogue/batch.html", batch=batch_row, offers=items, total=total, page=page,
                           per_page=30)


@bp.route("/<int:offer_id>")
def detail(offer_id: int):
    try:
        offer = access.require_offer_view(current_user, db.session.get(Offer, offer_id, options=[
            joinedload(Offer.organization), joinedload(Offer.batch), joinedload(Offer.patent),
            joinedload(Offer.financial), selectinload(Offer.fields)]))  # all the page shows, in 2 queries
    except DomainError as exc:
        abort(exc.http_status)
    from marketplace.services import confidentiality, matching
    with unit_of_work():
        details = confidentiality.open_details(current_user, offer, remote_addr=request.remote_addr or "")
    return render_template("catalogue/detail.html", offer=confidentiality.safe_view(current_user, offer, details=details),
                           related=_related(offer), answerable_needs=matching.needs_for_offer(current_user, offer),
                           can_edit=access.can_edit_offer(current_user, offer),
                           details=details, can_manage_confidentiality=confidentiality.is_owner(current_user, offer))


def _related(offer: Offer, limit: int = 4) -> list[Offer]:
    """Published offers sharing the offer's subfields, same kind first."""
    field_ids = [f.id for f in offer.fields if f.parent_id is not None] or [f.id for f in offer.fields]
    if not field_ids:
        return []
    query = (select(Offer).where(Offer.id != offer.id, Offer.status == "published",
                                 access.offer_visibility_clause(current_user),
                                 Offer.fields.any(Field.id.in_(field_ids)))
             .order_by((Offer.kind == offer.kind).desc(), Offer.published_at.desc().nulls_last()).limit(limit))
    return list(db.session.scalars(query))


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

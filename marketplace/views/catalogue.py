"""Public catalogue of offers, and members' drafting of their own offers."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace import page_cache, search_index
from marketplace.models.catalogue import OFFER_KINDS
from marketplace.queries import catalogue as catalogue_q
from marketplace.queries import taxonomy
from marketplace.queries.paging import site_per_page
from marketplace.security import limit_from_config
from marketplace.services import access, offers as offer_service
from marketplace.services.errors import DomainError
from marketplace.services.offers import KIND_SECTIONS
from marketplace.services.unit_of_work import unit_of_work
from marketplace.views.edit_forms import versioned_edit
from marketplace.views.helpers import flash_domain_error, form_dict, page_arg
from marketplace.vocabulary import label
from search import SearchUnavailable

bp = Blueprint("catalogue", __name__, url_prefix="/offers")

LIST_KEYS = ("regulatory_statuses", "partnership_modes", "field_codes", "transfer_modes", "invest_stages",
             "eligible_sizes", "eligible_stages")
BATCH_PER_PAGE = 30  # a batch page shows more cards than the other lists


FACET_PARAMS = ("kind", "direction", "field", "batch", "trl", "regulatory", "partnership", "sub_park", "org_kind")
SORTS = catalogue_q.OFFER_SORTS


@bp.route("/")
@page_cache.anonymous_page
def index():
    """Catalogue with facets, sorting and full-text search through the search library."""
    q = (request.args.get("q") or "").strip()[:200]
    sort = request.args.get("sort") if request.args.get("sort") in SORTS else "relevance"
    filters = {name: [v for v in request.args.getlist(name) if v][:20] for name in FACET_PARAMS}
    page = page_arg()
    per_page = site_per_page()
    listing = catalogue_q.list_offers(current_user, q=q, filters=filters, sort=sort, facets=FACET_PARAMS,
                                      highlight=bool(q), page=page, per_page=per_page, lean=True)
    selected = {k: request.args.getlist(k) for k in FACET_PARAMS}
    if listing.degraded:
        flash(_("Search is temporarily unavailable; showing the catalogue without text search."), "warning")
        return render_template("catalogue/index.html", hits=listing.hits, result=None, total=listing.total, q=q,
                               sort=sort, sorts=list(SORTS), selected=selected, facet_labels={}, page=page,
                               per_page=per_page)
    return render_template("catalogue/index.html", hits=listing.hits, result=listing, q=q, sort=sort,
                           sorts=list(SORTS), selected=selected, facet_labels=_facet_labels(listing.facets),
                           page=page, per_page=per_page)


def _facet_labels(facets: dict) -> dict[str, dict[str, str]]:
    """Human labels for facet values in the viewer's language."""
    from marketplace.i18n import current_lang
    lang = current_lang()
    fields = taxonomy.field_names(set(facets.get("direction", {})) | set(facets.get("field", {})), lang)
    batches = catalogue_q.batch_titles(facets.get("batch", {}), lang)
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
    return render_template("catalogue/batches.html", rows=catalogue_q.published_batches())


@bp.route("/batches/<int:number>")
def batch(number: int):
    try:
        batch_row = catalogue_q.get_batch(number)
    except DomainError as exc:
        abort(exc.http_status)
    page = page_arg()
    found = catalogue_q.batch_offers(current_user, batch_row, page, BATCH_PER_PAGE)
    return render_template("catalogue/batch.html", batch=batch_row, offers=found.items, total=found.total,
                           page=page, per_page=BATCH_PER_PAGE)


@bp.route("/<int:offer_id>")
@page_cache.anonymous_page(item=True)
def detail(offer_id: int):
    try:
        offer = catalogue_q.get_offer(current_user, offer_id, for_page=True)
    except DomainError as exc:
        abort(exc.http_status)
    from marketplace.services import confidentiality, matching
    # The page is drawn before the commit (which would expire the rows the template reads, reloading them).
    with unit_of_work():
        details = confidentiality.open_details(current_user, offer, remote_addr=request.remote_addr or "")
        if details.logged:
            page_cache.skip()  # each view is written to the access log
        return render_template(
            "catalogue/detail.html", offer=confidentiality.safe_view(current_user, offer, details=details),
            related=catalogue_q.related_offers(current_user, offer),
            answerable_needs=matching.needs_for_offer(current_user, offer),
            can_edit=access.can_edit_offer(current_user, offer),
            details=details, can_manage_confidentiality=confidentiality.is_owner(current_user, offer))


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
                           errors=errors, sections=KIND_SECTIONS[kind], orgs=orgs, fields=taxonomy.field_tree()), \
        (400 if errors else 200)


@bp.route("/<int:offer_id>/edit", methods=["GET", "POST"])
@login_required
def edit(offer_id: int):
    try:
        offer = access.require_offer_edit(current_user, catalogue_q.get_offer(current_user, offer_id))
    except DomainError as exc:
        abort(exc.http_status)

    def save(data, version):
        offer_service.update_offer(current_user, offer, data, expected_version=version)
        if data.get("action") == "submit":
            offer_service.submit_offer(current_user, offer)

    return versioned_edit(
        offer.version, form_values=lambda: offer_service.offer_form_values(offer),
        read_form=lambda: form_dict(request.form, LIST_KEYS), save=save, saved=_("Changes saved."),
        next_url=url_for("catalogue.detail", offer_id=offer.id),
        render=lambda data, errors, status: (render_template(
            "catalogue/form.html", kind=offer.kind, offer=offer, data=data, errors=errors,
            sections=KIND_SECTIONS[offer.kind], orgs=_org_choices(), fields=taxonomy.field_tree()), status))


@bp.route("/<int:offer_id>/submit", methods=["POST"])
@login_required
def submit(offer_id: int):
    try:
        with unit_of_work():
            offer_service.submit_offer(current_user, catalogue_q.get_offer(current_user, offer_id))
    except DomainError as exc:
        abort(exc.http_status)
    flash(_("Submitted for verification."), "success")
    return redirect(url_for("catalogue.detail", offer_id=offer_id))

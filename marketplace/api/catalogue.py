"""/api/v1/offers and /api/v1/patents: the catalogue, drafting and submission."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from marketplace import search_index, visibility
from marketplace.api import auth
from marketplace.api import representations as rep
from marketplace.api.common import api_blueprint, flatten_offer_input, get_row, paginate
from marketplace.api.schemas.catalogue import (
    OfferCreateIn,
    OfferDetailOut,
    OfferListArgs,
    OfferPage,
    OfferUpdateIn,
    PatentListArgs,
    PatentPage,
)
from marketplace.api.schemas.common import page_body
from marketplace.extensions import db
from marketplace.models import Batch, Field, Offer, PatentDetail
from marketplace.services import access, confidentiality
from marketplace.services import offers as offer_service
from marketplace.services.errors import NotFound
from marketplace.services.unit_of_work import unit_of_work
from search import SearchQuery

bp = api_blueprint("api_offers", __name__, url_prefix="/api/v1/offers",
               description="Technologies, products, services, patents and financial products on offer.")
patents_bp = api_blueprint("api_patents", __name__, url_prefix="/api/v1/patents",
                       description="Patents with their value indicators (high-value patents first).")

OFFER_LOAD = (selectinload(Offer.organization), selectinload(Offer.fields), selectinload(Offer.batch),
              selectinload(Offer.patent), selectinload(Offer.financial))


def _offer_query(user):
    return select(Offer).where(access.offer_visibility_clause(user)).options(*OFFER_LOAD)


@bp.route("/", methods=["GET"])
@bp.arguments(OfferListArgs, location="query", as_kwargs=True)
@bp.response(200, OfferPage)
def list_offers(page, per_page, q=None, kind=None, status=None, field=None, organization_id=None, batch=None):
    """List offers you may see; `q` searches published offers by relevance, otherwise newest first."""
    user = auth.caller()
    if q and not status and not organization_id:  # the search index answers ranked text queries
        filters = {"status": ["published"]}
        if kind:
            filters["kind"] = [kind]
        if field:
            filters["field"] = [field]
        if batch:
            filters["batch"] = [str(batch)]
        result = search_index.search("offers", SearchQuery(q=q, filters=filters, page=page, per_page=per_page), user)
        ids = [int(i) for i in result.ids]
        rows = {o.id: o for o in db.session.scalars(_offer_query(user).where(Offer.id.in_(ids)))}
        return page_body([rep.offer_summary(rows[i], user) for i in ids if i in rows], page, per_page, result.total)
    query = _offer_query(user).where(Offer.status == (status or "published"))
    if kind:
        query = query.where(Offer.kind == kind)
    if field:
        query = query.where(Offer.fields.any(Field.code == field))
    if organization_id:
        query = query.where(Offer.organization_id == organization_id)
    if batch:
        query = query.where(Offer.batch.has(Batch.number == batch))
    if q:
        like = f"%{q}%"
        query = query.where(or_(Offer.title_zh.ilike(like), Offer.title_en.ilike(like)))
    query = query.order_by(Offer.published_at.desc().nulls_last(), Offer.id.desc())
    return paginate(query, page, per_page, lambda o: rep.offer_summary(o, user))


@bp.route("/", methods=["POST"])
@bp.arguments(OfferCreateIn)
@bp.response(201, OfferDetailOut)
@auth.write_access
def create_offer(data):
    """Create a draft offer for one of your organisations; submit it for verification when it is ready."""
    user = auth.require_caller()
    with unit_of_work():
        offer = offer_service.create_offer(user, data["organization_id"], data["kind"], flatten_offer_input(data))
        body = rep.offer_detail(offer, user, details_visible=True)
    return body


@bp.route("/<int:offer_id>", methods=["GET"])
@bp.response(200, OfferDetailOut)
def get_offer(offer_id):
    """One offer; details of teaser or confidential offers only for those allowed (the view is logged)."""
    user = auth.caller()
    with unit_of_work():
        offer = access.require_offer_view(user, get_row(Offer, offer_id))
        shown = (confidentiality.open_details(user, offer, remote_addr=auth.remote_addr()) if user else
                 confidentiality.detail_access(user, offer)).show
        body = rep.offer_detail(offer, user, details_visible=shown)
    return body


@bp.route("/<int:offer_id>", methods=["PATCH"])
@bp.arguments(OfferUpdateIn)
@bp.response(200, OfferDetailOut)
@auth.write_access
def update_offer(data, offer_id):
    """Change an offer you may edit (drafts of your organisation); fields left out keep their values."""
    user = auth.require_caller()
    with unit_of_work():
        offer = get_row(Offer, offer_id)
        access.require_offer_view(user, offer)
        values = offer_service.offer_form_values(offer)
        values.update(flatten_offer_input(data))
        offer = offer_service.update_offer(user, offer, values)
        body = rep.offer_detail(offer, user, details_visible=True)
    return body


@bp.route("/<int:offer_id>/submit", methods=["POST"])
@bp.response(200, OfferDetailOut)
@auth.write_access
def submit_offer(offer_id):
    """Send a draft to the operators' verification queue."""
    user = auth.require_caller()
    with unit_of_work():
        offer = offer_service.submit_offer(user, access.require_offer_view(user, get_row(Offer, offer_id)))
        body = rep.offer_detail(offer, user, details_visible=True)
    return body


@patents_bp.route("/", methods=["GET"])
@patents_bp.arguments(PatentListArgs, location="query", as_kwargs=True)
@patents_bp.response(200, PatentPage)
def list_patents(page, per_page, sort, q=None, legal_status=None, curation_stage=None, ipc=None):
    """Published patents with their value indicators; application numbers, IPC classes and the other patent
    details where you may read them without a logged view (public patents, your own, operators)."""
    user = auth.caller()
    query = (_offer_query(user).join(PatentDetail, PatentDetail.offer_id == Offer.id)
             .where(Offer.status == "published"))
    if legal_status:  # a detail, so filtering on it must not reveal it for teaser patents
        query = query.where(PatentDetail.legal_status == legal_status, visibility.OFFER_DETAIL.clause(user))
    if curation_stage:
        query = query.where(PatentDetail.curation_stage == curation_stage)
    if q:
        like = f"%{q}%"
        # Application numbers are details: only those the caller may read are matched.
        query = query.where(or_(Offer.title_zh.ilike(like), Offer.title_en.ilike(like),
                                PatentDetail.application_number.ilike(like) & visibility.OFFER_DETAIL.clause(user)))
    rows = None
    if ipc:
        # IPC classes are a JSON list; filter in Python over the (bounded) matching set, on what the caller may
        # read (a teaser patent's classes are details).
        prefix = ipc.strip().upper()
        rows = [o for o in db.session.scalars(query) if any(
            str(c).upper().startswith(prefix)
            for c in (visibility.static_view(user, o).patent.ipc_classes or []))]
    order = ((PatentDetail.value_score.desc().nulls_last(),) if sort == "value"
             else (Offer.published_at.desc().nulls_last(),)) + (Offer.id.desc(),)
    if rows is None:
        return paginate(query.order_by(*order), page, per_page,
                        lambda o: rep.offer_detail(visibility.static_view(user, o), user))
    start = (page - 1) * per_page
    chunk = rows[start:start + per_page]
    return page_body([rep.offer_detail(visibility.static_view(user, o), user) for o in chunk], page, per_page,
                     len(rows))


@patents_bp.route("/<int:offer_id>", methods=["GET"])
@patents_bp.response(200, OfferDetailOut)
def get_patent(offer_id):
    """One patent (an offer of kind `patent`)."""
    user = auth.caller()
    offer = access.require_offer_view(user, get_row(Offer, offer_id))
    if offer.patent is None:
        raise NotFound(_l("This patent does not exist or is not visible to you."))
    return get_offer(offer_id)

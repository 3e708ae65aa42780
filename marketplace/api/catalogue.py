"""/api/v1/offers and /api/v1/patents: the catalogue, drafting and submission."""
from __future__ import annotations

from marketplace import visibility
from marketplace.api import auth
from marketplace.api import representations as rep
from marketplace.api.common import (IF_MATCH_DOC, api_blueprint, flatten_offer_input, page_envelope, send_etag,
                                     versioned_update)
from marketplace.api.schemas.catalogue import (
    OfferCreateIn,
    OfferDetailOut,
    OfferListArgs,
    OfferPage,
    OfferUpdateIn,
    PatentListArgs,
    PatentPage,
)
from marketplace.queries import catalogue as catalogue_q
from marketplace.queries import patents as patents_q
from marketplace.queries.paging import api_per_page
from marketplace.services import confidentiality
from marketplace.services import offers as offer_service
from marketplace.services.unit_of_work import unit_of_work

bp = api_blueprint("api_offers", __name__, url_prefix="/api/v1/offers",
               description="Technologies, products, services, patents and financial products on offer.")
patents_bp = api_blueprint("api_patents", __name__, url_prefix="/api/v1/patents",
                       description="Patents with their value indicators (high-value patents first).")

@bp.route("/", methods=["GET"])
@bp.arguments(OfferListArgs, location="query", as_kwargs=True)
@bp.response(200, OfferPage)
def list_offers(page, per_page=None, q=None, kind=None, status=None, field=None, organization_id=None, batch=None):
    """List offers you may see; `q` searches published offers by relevance, otherwise newest first."""
    user = auth.caller()
    listing = catalogue_q.list_offers(user, q=q or "", status=status, page=page, per_page=api_per_page(per_page),
                                      filters={"kind": kind, "field": field, "org_id": organization_id,
                                               "batch": batch})
    return page_envelope(listing, lambda o: rep.offer_summary(o, user))


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
        offer = catalogue_q.get_offer(user, offer_id)
        shown = (confidentiality.open_details(user, offer, remote_addr=auth.remote_addr()) if user else
                 confidentiality.detail_access(user, offer)).show
        body = rep.offer_detail(offer, user, details_visible=shown)
        send_etag(offer)
    return body


@bp.route("/<int:offer_id>", methods=["PATCH"])
@bp.doc(**IF_MATCH_DOC)
@bp.arguments(OfferUpdateIn)
@bp.response(200, OfferDetailOut)
@auth.write_access
def update_offer(data, offer_id):
    """Change an offer you may edit (drafts of your organisation); fields left out keep their values."""
    user = auth.require_caller()
    return versioned_update(
        lambda version: offer_service.update_offer(user, catalogue_q.get_offer(user, offer_id),
                                                   flatten_offer_input(data), expected_version=version,
                                                   keep_unsent=True),
        lambda offer: rep.offer_detail(offer, user, details_visible=True))


@bp.route("/<int:offer_id>/submit", methods=["POST"])
@bp.response(200, OfferDetailOut)
@auth.write_access
def submit_offer(offer_id):
    """Send a draft to the operators' verification queue."""
    user = auth.require_caller()
    with unit_of_work():
        offer = offer_service.submit_offer(user, catalogue_q.get_offer(user, offer_id))
        body = rep.offer_detail(offer, user, details_visible=True)
    return body


@patents_bp.route("/", methods=["GET"])
@patents_bp.arguments(PatentListArgs, location="query", as_kwargs=True)
@patents_bp.response(200, PatentPage)
def list_patents(page, sort, per_page=None, q=None, legal_status=None, curation_stage=None, ipc=None):
    """Published patents with their value indicators; application numbers, IPC classes and the other patent
    details where you may read them without a logged view (public patents, your own, operators)."""
    user = auth.caller()
    found = patents_q.list_patents(user, q=q, legal_status=legal_status, curation_stage=curation_stage, ipc=ipc,
                                   sort=sort, page=page, per_page=api_per_page(per_page))
    return page_envelope(found, lambda o: rep.offer_detail(visibility.static_view(user, o), user))


@patents_bp.route("/<int:offer_id>", methods=["GET"])
@patents_bp.response(200, OfferDetailOut)
def get_patent(offer_id):
    """One patent (an offer of kind `patent`)."""
    patents_q.get_patent(auth.caller(), offer_id)
    return get_offer(offer_id)

"""/api/v1/needs: posting, editing, publishing, closing and reopening needs, and their ranked offers."""
from __future__ import annotations

from marketplace.api import auth
from marketplace.api import representations as rep
from marketplace.api.common import IF_MATCH_DOC, api_blueprint, page_envelope, send_etag, versioned_update
from marketplace.api.schemas.catalogue import (
    MatchDecisionIn,
    MatchDecisionOut,
    MatchListOut,
    NeedCloseIn,
    NeedCreateIn,
    NeedDetailOut,
    NeedListArgs,
    NeedPage,
    NeedUpdateIn,
)
from marketplace.models import Need
from marketplace.queries import needs as needs_q
from marketplace.queries.paging import api_per_page
from marketplace.services import confidentiality, matching
from marketplace.services import needs as need_service
from marketplace.services.unit_of_work import unit_of_work

bp = api_blueprint("api_needs", __name__, url_prefix="/api/v1/needs",
               description="Needs posted by hospitals, firms and research bodies, and their matched offers.")

def _need(user, need_id: int) -> Need:
    return needs_q.get_need(user, need_id)


@bp.route("/", methods=["GET"])
@bp.arguments(NeedListArgs, location="query", as_kwargs=True)
@bp.response(200, NeedPage)
def list_needs(page, per_page=None, q=None, kind=None, status=None, field=None, organization_id=None):
    """List needs you may see (open ones unless `status` says otherwise), newest first."""
    user = auth.caller()
    found = needs_q.list_needs(user, statuses=(status,) if status else needs_q.LISTED_STATUSES, kind=kind,
                               field=field, organization_id=organization_id, q=q, page=page,
                               per_page=api_per_page(per_page))
    return page_envelope(found, lambda n: rep.need_summary(n, user))


@bp.route("/", methods=["POST"])
@bp.arguments(NeedCreateIn)
@bp.response(201, NeedDetailOut)
@auth.write_access
def create_need(data):
    """Post a need for one of your organisations (matching runs after it is saved)."""
    user = auth.require_caller()
    data = dict(data)
    publish = not data.pop("draft", False)
    with unit_of_work():
        need = need_service.create_need(user, data.pop("organization_id"), data.pop("kind"), data, publish=publish)
        body = rep.need_detail(need, user, details_visible=True)
    return body


@bp.route("/<int:need_id>", methods=["GET"])
@bp.response(200, NeedDetailOut)
def get_need(need_id):
    """One need; teaser and confidential details only for those allowed (the view is logged)."""
    user = auth.caller()
    with unit_of_work():
        need = _need(user, need_id)
        shown = (confidentiality.open_details(user, need, remote_addr=auth.remote_addr()) if user else
                 confidentiality.detail_access(user, need)).show
        body = rep.need_detail(need, user, details_visible=shown)
        send_etag(need)
    return body


@bp.route("/<int:need_id>", methods=["PATCH"])
@bp.doc(**IF_MATCH_DOC)
@bp.arguments(NeedUpdateIn)
@bp.response(200, NeedDetailOut)
@auth.write_access
def update_need(data, need_id):
    """Change a need of your organisation; fields left out keep their values."""
    user = auth.require_caller()
    return versioned_update(
        lambda version: need_service.update_need(user, _need(user, need_id), data, expected_version=version,
                                                 keep_unsent=True),
        lambda need: rep.need_detail(need, user, details_visible=True))


@bp.route("/<int:need_id>/close", methods=["POST"])
@bp.arguments(NeedCloseIn)
@bp.response(200, NeedDetailOut)
@auth.write_access
def close_need(data, need_id):
    """Close a need (with an optional reason); it leaves the matching."""
    user = auth.require_caller()
    with unit_of_work():
        need = need_service.close_need(user, _need(user, need_id), data.get("reason", ""))
        body = rep.need_detail(need, user, details_visible=True)
    return body


@bp.route("/<int:need_id>/publish", methods=["POST"])
@bp.response(200, NeedDetailOut)
@auth.write_access
def publish_need(need_id):
    """Publish a draft need (409 unless it is a draft); it is listed and enters the matching."""
    return _change_status(need_id, need_service.publish)


@bp.route("/<int:need_id>/reopen", methods=["POST"])
@bp.response(200, NeedDetailOut)
@auth.write_access
def reopen_need(need_id):
    """Reopen a closed need (409 unless it is closed); its closing reason is cleared, matching resumes."""
    return _change_status(need_id, need_service.reopen)


def _change_status(need_id: int, action) -> dict:
    user = auth.require_caller()
    with unit_of_work():
        need = action(user, _need(user, need_id))
        body = rep.need_detail(need, user, details_visible=True)
    return body


@bp.route("/<int:need_id>/matches", methods=["GET"])
@bp.response(200, MatchListOut)
def list_matches(need_id):
    """The offers ranked for this need, best first, with the score's parts and the reasons."""
    user = auth.caller()
    need = _need(user, need_id)
    decisions = matching.user_decisions(user, need) if user else {}
    return {"items": [rep.match(s, user, decisions) for s in matching.suggestions_for_need(user, need)]}


def _decide(need_id: int, offer_id: int, decision: str, reason: str) -> dict:
    user = auth.require_caller()
    with unit_of_work():
        feedback = matching.record_feedback(user, _need(user, need_id), offer_id, decision, reason)
        body = {"need_id": feedback.need_id, "offer_id": feedback.offer_id, "decision": feedback.decision}
    return body




@bp.route("/<int:need_id>/matches/<int:offer_id>/accept", methods=["POST"])
@bp.arguments(MatchDecisionIn)
@bp.response(200, MatchDecisionOut)
@auth.write_access
def accept_match(data, need_id, offer_id):
    """Accept a pairing (the need's organisation or a technology manager); it feeds the ranking."""
    return _decide(need_id, offer_id, "accepted", data.get("reason", ""))


@bp.route("/<int:need_id>/matches/<int:offer_id>/dismiss", methods=["POST"])
@bp.arguments(MatchDecisionIn)
@bp.response(200, MatchDecisionOut)
@auth.write_access
def dismiss_match(data, need_id, offer_id):
    """Dismiss a pairing as not relevant, optionally saying why; it leaves the need's matches for everybody."""
    return _decide(need_id, offer_id, "dismissed", data.get("reason", ""))

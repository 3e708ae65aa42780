"""Site-wide search across offers, needs and organisations."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from marketplace import search_index
from marketplace.extensions import db
from marketplace.models import Need, Offer, Organization
from marketplace.security import limit_from_config
from marketplace.views.helpers import page_arg
from search import SearchError, SearchQuery, SearchUnavailable

bp = Blueprint("search", __name__, url_prefix="/search")

SCOPES = {
    "offers": (Offer, ["kind", "direction", "regulatory"], {"status": ["published"]}),
    "needs": (Need, ["kind", "direction", "urgency"], {"status": ["open", "matched"]}),
    "organizations": (Organization, ["kind", "sub_park"], {}),
}


@bp.route("/")
@limit_from_config("SEARCH_RATE_LIMIT")
def index():
    q = (request.args.get("q") or "").strip()[:200]
    scope = request.args.get("scope") if request.args.get("scope") in SCOPES else "offers"
    model, facets, base_filters = SCOPES[scope]
    filters = dict(base_filters)
    for name in facets:
        values = [v for v in request.args.getlist(name) if v][:20]
        if values:
            filters[name] = values
    page = page_arg()
    counts: dict[str, int] = {}
    error = None
    status = 200
    result = None
    rows = []
    try:
        result = search_index.search(scope, SearchQuery(q=q, filters=filters, facets=facets, page=page, per_page=20,
                                                         highlight=bool(q)), current_user)
        for other, (_model, _facets, other_filters) in SCOPES.items():
            counts[other] = result.total if other == scope else search_index.search(
                other, SearchQuery(q=q, filters=dict(other_filters), per_page=1), current_user).total
        objects = {o.id: o for o in db.session.scalars(select(model).where(model.id.in_([int(i) for i in result.ids])))}
        rows = [(objects[int(h.id)], h.highlights) for h in result.hits if int(h.id) in objects]
    except SearchUnavailable:
        error = _("Search is temporarily unavailable. Please try again in a moment; the catalogue still works.")
        status = 503
    except SearchError:
        error = _("This search could not be understood.")
    return render_template("search/index.html", q=q, scope=scope, result=result, rows=rows, counts=counts,
                           error=error, facets=facets, selected={k: request.args.getlist(k) for k in facets},
                           page=page), status


@bp.route("/suggest")
@limit_from_config("SUGGEST_RATE_LIMIT")
def suggest():
    """Suggestions as you type across offers and needs (JSON list of titles)."""
    prefix = (request.args.get("q") or "").strip()[:100]
    if not prefix:
        return jsonify([])
    try:
        titles = search_index.suggest("offers", prefix, current_user, limit=6)
        titles += [t for t in search_index.suggest("needs", prefix, current_user, limit=4) if t not in titles]
    except SearchError:
        titles = []
    return jsonify(titles[:8])

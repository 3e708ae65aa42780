"""Site-wide search across offers, needs and organisations."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from marketplace import search_index
from marketplace.queries.paging import site_per_page
from marketplace.queries.site_search import SCOPES, search_site
from marketplace.security import limit_from_config
from marketplace.views.helpers import page_arg
from search import SearchError, SearchUnavailable

bp = Blueprint("search", __name__, url_prefix="/search")


@bp.route("/")
@limit_from_config("SEARCH_RATE_LIMIT")
def index():
    q = (request.args.get("q") or "").strip()[:200]
    scope = request.args.get("scope") if request.args.get("scope") in SCOPES else "offers"
    facets, _base_filters = SCOPES[scope]
    filters = {name: [v for v in request.args.getlist(name) if v][:20] for name in facets}
    page = page_arg()
    counts: dict[str, int] = {}
    error = None
    status = 200
    result = None
    rows = []
    try:
        found = search_site(current_user, scope, q=q, filters=filters, page=page, per_page=site_per_page())
        result, rows, counts = found.result, found.rows, found.counts
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

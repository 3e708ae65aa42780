"""Site-wide search across offers, needs and organisations, with help when a search finds little."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace import page_cache, search_counts, search_index
from marketplace.i18n import current_lang
from marketplace.queries import search_help, taxonomy
from marketplace.queries.paging import site_per_page
from marketplace.queries.site_search import SCOPES, search_site
from marketplace.security import limit_from_config
from marketplace.services import search_terms
from marketplace.views.helpers import page_arg
from search import SearchError, SearchUnavailable

bp = Blueprint("search", __name__, url_prefix="/search")
INSTANT_ENDPOINTS = {"offers": ("catalogue.detail", "offer_id"), "needs": ("needs.detail", "need_id"),
                     "organizations": ("organizations.profile", "org_id")}


def _count_if_public(scope: str, q: str, *, found_by_visitor: bool) -> None:
    """Count the words towards popular searches when an anonymous visitor would find something too; the same
    page served again from the cache counts them again (its replay note).

    ``found_by_visitor``: the page's own search was an anonymous visitor's without facet filters and found
    something, so no second search is needed to know."""
    term = search_terms.normalized_term(q)
    if term is None:
        return
    try:
        if not (found_by_visitor or search_help.found_public(scope, q)):
            return
    except SearchError:
        return  # the page is drawn already: these words are simply not counted
    page_cache.note_for_replay(term)
    search_counts.record(term)


@bp.route("/")
@limit_from_config("SEARCH_RATE_LIMIT")
@page_cache.anonymous_page(on_replay=search_counts.record)
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
    suggestion = shown_for = None
    count_words = False
    try:
        found = search_site(current_user, scope, q=q, filters=filters, page=page, per_page=site_per_page())
        if q and page == 1:
            suggestion = search_help.did_you_mean(q)
            if not any(found.counts.values()) and suggestion:
                # nothing at all for what was typed: show what the corrected words find instead
                corrected = search_site(current_user, scope, q=suggestion, filters=filters, page=page,
                                        per_page=site_per_page())
                if any(corrected.counts.values()):
                    found, shown_for = corrected, suggestion
            count_words = bool(found.result.total) and not shown_for
        result, rows, counts = found.result, found.rows, found.counts
    except SearchUnavailable:
        error = _("Search is temporarily unavailable. Please try again in a moment; the catalogue still works.")
        status = 503
    except SearchError:
        error = _("This search could not be understood.")
    empty = result is not None and result.total == 0
    # support directions are taxonomy codes ("D1"): people see their names
    direction_names = taxonomy.field_names(result.facets.get("direction", {}), current_lang()) if result else {}
    drawn = render_template("search/index.html", q=q, scope=scope, result=result, rows=rows, counts=counts,
                            error=error, facets=facets, selected={k: request.args.getlist(k) for k in facets},
                            page=page, suggestion=suggestion, shown_for=shown_for, direction_names=direction_names,
                            popular=search_help.popular() if empty or not q else [],
                            post_need_url=url_for("needs.create", title=q) if q else None)
    if count_words:  # after drawing: the count's commit would expire the rows the template reads
        _count_if_public(scope, q, found_by_visitor=not current_user.is_authenticated and not any(filters.values()))
    return drawn, status


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


@bp.route("/instant.json")
@limit_from_config("SUGGEST_RATE_LIMIT")
def instant():
    """Results while typing: a few offers, needs and organisations with their links, and a correction."""
    q = (request.args.get("q") or "").strip()[:100]
    if not q:
        return jsonify({"results": [], "did_you_mean": None})
    lang = current_lang()
    try:
        found = search_help.instant(current_user, q)
        suggestion = search_help.did_you_mean(q)
    except SearchError:
        return jsonify({"results": [], "did_you_mean": None})
    scope_labels = {"offers": _("Offer"), "needs": _("Need"), "organizations": _("Organisation")}
    results = []
    for row in found:
        endpoint, arg = INSTANT_ENDPOINTS[row["scope"]]
        title = row["title_en"] if lang == "en" and row["title_en"] else row["title_zh"] or row["title_en"]
        results.append({"title": title, "scope": scope_labels[row["scope"]],
                        "url": url_for(endpoint, **{arg: row["id"]})})
    return jsonify({"results": results, "did_you_mean": suggestion,
                    "did_you_mean_url": url_for("search.index", q=suggestion) if suggestion else None})

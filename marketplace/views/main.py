"""Home page, language switch and health check."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user

from marketplace import page_cache, visibility
from marketplace.queries import catalogue as catalogue_q
from marketplace.queries import patents as patents_q
from marketplace.security import safe_next_url
from marketplace.services import stats
from marketplace.settings import current_settings

bp = Blueprint("main", __name__)


@bp.app_context_processor
def _viewer() -> dict:
    """The current user as the visibility rules see them, so templates ask ``viewer.is_staff`` / ``is_broker``
    instead of reading role names."""
    return {"viewer": visibility.viewer_of(current_user)}


@bp.route("/")
@page_cache.anonymous_page
def home():
    latest_batch = catalogue_q.latest_regular_batch()
    latest_offers = catalogue_q.batch_showcase(latest_batch) if latest_batch is not None else []
    patents = patents_q.top_high_value_patents()
    figures, directions = stats.home_figures(current_settings().home_figures_ttl,
                                             current_app.extensions.setdefault("tb_home_figures", {}))
    return render_template("main/home.html", figures=figures, directions=directions,
                           latest_batch=latest_batch, latest_offers=latest_offers, patents=patents)


@bp.route("/lang/<code>", methods=["GET", "POST"])
def switch_language(code: str):
    """Show the site in ``code`` for this browser session; the switch in the navigation bar (a POST form) also
    stores it as the account's language. A GET (a link, a prefetch) changes nothing stored."""
    from marketplace.services.accounts import set_locale
    from marketplace.services.unit_of_work import unit_of_work
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if request.method == "POST" and current_user.is_authenticated:
            with unit_of_work():
                set_locale(current_user, code)
    return redirect(safe_next_url(request.args.get("next"), url_for("main.home")))


@bp.route("/healthz")
def healthz():
    """JSON health: database reachability and the search backend's status.

    Anyone (load balancers) learns ok or degraded per component; operators, logged in, also get the details
    (database dialect, search address, version, index sizes, outbox backlog).
    """
    from marketplace import search_index, search_outbox
    from marketplace.database import database_health
    details = visibility.viewer_of(current_user).is_staff
    database = database_health()
    # Probes come many times a second: anonymous callers get one cheap call to the search backend.
    search = search_outbox.health(details=True) if details else {"ok": search_index.reachable()}
    ok = bool(database.get("ok")) and bool(search.get("ok"))
    status = {"status": "ok" if ok else "degraded",
              "database": database if details else {"ok": bool(database.get("ok"))}, "search": search}
    return jsonify(status), 200 if ok else 503

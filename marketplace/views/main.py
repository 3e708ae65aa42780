"""Home page, language switch and health check."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user

from marketplace import visibility
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
def home():
    latest_batch = catalogue_q.latest_regular_batch()
    latest_offers = catalogue_q.batch_showcase(latest_batch) if latest_batch is not None else []
    patents = patents_q.top_high_value_patents()
    figures, directions = stats.home_figures(current_settings().home_figures_ttl,
                                             current_app.extensions.setdefault("tb_home_figures", {}))
    return render_template("main/home.html", figures=figures, directions=directions,
                           latest_batch=latest_batch, latest_offers=latest_offers, patents=patents)


@bp.route("/lang/<code>")
def switch_language(code: str):
    """Remember the chosen language for this session (and the account, when logged in)."""
    from marketplace.services.accounts import set_locale
    from marketplace.services.unit_of_work import unit_of_work
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated:
            with unit_of_work():
                set_locale(current_user, code)
    return redirect(safe_next_url(request.args.get("next"), url_for("main.home")))


@bp.route("/healthz")
def healthz():
    """JSON health: database reachability and the search backend's status."""
    from marketplace import search_outbox
    from marketplace.database import database_health
    status = {"status": "ok", "database": database_health()}
    if not status["database"]["ok"]:
        status["status"] = "degraded"
    status["search"] = search_outbox.health()
    if not status["search"].get("ok"):
        status["status"] = "degraded"
    return jsonify(status), 200 if status["status"] == "ok" else 503

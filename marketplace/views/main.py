"""Home page, language switch and health check."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import select, text
from sqlalchemy.orm import joinedload

from marketplace import visibility
from marketplace.extensions import db
from marketplace.models import Batch, Offer, PatentDetail
from marketplace.security import safe_next_url
from marketplace.services import stats

bp = Blueprint("main", __name__)


@bp.app_context_processor
def _viewer() -> dict:
    """The current user as the visibility rules see them, so templates ask ``viewer.is_staff`` / ``is_broker``
    instead of reading role names."""
    return {"viewer": visibility.viewer_of(current_user)}


@bp.route("/")
def home():
    latest_batch = db.session.scalar(select(Batch).where(Batch.kind == "regular").order_by(Batch.number.desc()))
    card = (joinedload(Offer.organization), joinedload(Offer.batch))  # what offer_card shows, in the same query
    latest_offers = []
    if latest_batch is not None:
        latest_offers = list(db.session.scalars(
            select(Offer).where(Offer.batch_id == latest_batch.id, Offer.status == "published",
                                Offer.visibility != "confidential").order_by(Offer.id).limit(6).options(*card)))
    patents = list(db.session.scalars(
        select(Offer).join(PatentDetail).where(PatentDetail.curation_stage == "high_value",
                                               Offer.status == "published")
        .order_by(PatentDetail.value_score.desc().nulls_last(), Offer.id).limit(6).options(*card)))
    figures, directions = stats.home_figures()
    return render_template("main/home.html", figures=figures, directions=directions,
                           latest_batch=latest_batch, latest_offers=latest_offers, patents=patents)


@bp.route("/lang/<code>")
def switch_language(code: str):
    """Remember the chosen language for this session (and the account, when logged in)."""
    from flask_login import current_user

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
    from marketplace import search_index
    status = {"status": "ok"}
    try:
        db.session.execute(text("SELECT 1"))
        status["database"] = {"ok": True, "dialect": db.engine.dialect.name}
    except Exception as exc:  # report, don't crash: this endpoint exists to say what is wrong
        db.session.rollback()
        status["database"] = {"ok": False, "error": exc.__class__.__name__}
        status["status"] = "degraded"
    status["search"] = search_index.health()
    if not status["search"].get("ok"):
        status["status"] = "degraded"
    return jsonify(status), 200 if status["status"] == "ok" else 503

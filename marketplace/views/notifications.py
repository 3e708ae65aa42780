"""Notifications inbox and preferences, saved searches, follow-up ratings, and the brokering funnel."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace import mail
from marketplace.i18n import current_lang
from marketplace.models.notifications import ALERT_FREQUENCIES, CHANNELS, NOTIFICATION_KINDS, RATING_ANSWERS
from marketplace.queries.paging import site_per_page
from marketplace.services import alerts, followups, notifications
from marketplace.services import funnel as funnel_service
from marketplace.services.errors import DomainError
from marketplace.services.unit_of_work import unit_of_work
from marketplace.settings import current_settings
from marketplace.views.helpers import flash_domain_error, page_arg

bp = Blueprint("notifications", __name__)
funnel_bp = Blueprint("funnel", __name__, url_prefix="/brokering")


@bp.record_once
def _init_mail(state) -> None:
    mail.init_app(state.app)


@bp.app_context_processor
def _unread():
    def unread_notifications() -> int:
        try:
            return notifications.unread_count(current_user)
        except Exception:  # noqa: BLE001 - the navigation bar never breaks a page (error pages included)
            return 0
    return {"unread_notifications": unread_notifications}


def _next(default: str) -> str:
    from marketplace.security import safe_next_url
    return safe_next_url(request.form.get("next"), default)


# --- inbox --------------------------------------------------------------------------------------------

@bp.route("/notifications/")
@login_required
def inbox():
    page = page_arg()
    per_page = site_per_page()
    items, total = notifications.inbox(current_user, page, per_page)
    lang = current_lang()
    rows = [(n, *notifications.render(n, lang)) for n in items]
    return render_template("notifications/inbox.html", rows=rows, total=total, page=page, per_page=per_page,
                           kind_labels=notifications.KIND_LABELS)


@bp.route("/notifications/<int:notification_id>/open", methods=["POST"])
@login_required
def open_notification(notification_id: int):
    try:
        with unit_of_work():
            note = notifications.mark_read(current_user, notification_id)
            link = notifications.safe_link(note.link)
    except DomainError as exc:
        abort(exc.http_status)
    return redirect(link)


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def read_all():
    with unit_of_work():
        notifications.mark_all_read(current_user)
    flash(_("All notifications marked as read."), "success")
    return redirect(url_for("notifications.inbox"))


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def preferences():
    status = 200
    prefs = None
    if request.method == "POST":
        chosen = request.form.getlist("on")
        try:
            with unit_of_work():
                notifications.save_preferences(current_user, chosen)
        except DomainError as exc:
            flash_domain_error(exc)
            status = 400
            # show what the person ticked, so they can correct it
            prefs = {(kind, c): f"{c}:{kind}" in chosen for kind in NOTIFICATION_KINDS for c in CHANNELS}
        else:
            flash(_("Your notification choices were saved."), "success")
            return redirect(url_for("notifications.preferences"))
    return render_template("notifications/preferences.html", prefs=prefs or notifications.preferences(current_user),
                           kinds=NOTIFICATION_KINDS, channels=CHANNELS, registry=notifications.KINDS,
                           channel_labels=notifications.CHANNEL_LABELS), status


# --- saved searches -----------------------------------------------------------------------------------

@bp.route("/account/saved-searches", methods=["GET", "POST"])
@login_required
def saved_searches():
    if request.method == "POST":
        form = request.form
        kind = form.get("saved_kind", "search")
        data = {"need_id": form.get("need_id"), "q": form.get("q", ""), "scope": form.get("scope", "offers")}
        for facets, _base, _sort in alerts.SEARCH_SCOPES.values():
            for name in facets:
                data[name] = form.getlist(name)
        try:
            with unit_of_work():
                alerts.save(current_user, kind, data, current_settings().saved_search_max_results,
                            form.get("frequency", "daily"), form.get("name", ""))
        except DomainError as exc:
            if exc.http_status in (403, 404):
                abort(exc.http_status)
            flash_domain_error(exc)
        else:
            flash(_("Saved: you will be told about new results."), "success")
        return redirect(_next(url_for("notifications.saved_searches")))
    items = alerts.list_for(current_user)
    return render_template("notifications/saved_searches.html", items=items,
                           links={s.id: alerts.link_for(s) for s in items},
                           frequency_labels=alerts.FREQUENCY_LABELS, kind_labels=alerts.KIND_LABELS)


@bp.route("/account/saved-searches/<int:saved_id>/delete", methods=["POST"])
@login_required
def delete_saved_search(saved_id: int):
    try:
        with unit_of_work():
            alerts.delete(current_user, saved_id)
    except DomainError as exc:
        abort(exc.http_status)
    flash(_("Saved search deleted."), "info")
    return redirect(url_for("notifications.saved_searches"))


# --- follow-up ratings --------------------------------------------------------------------------------

@bp.route("/ratings/")
@login_required
def ratings():
    return render_template("notifications/ratings.html", items=followups.ratings_for(current_user),
                           answer_labels=notifications.RATING_LABELS)


@bp.route("/ratings/<int:rating_id>", methods=["GET", "POST"])
@login_required
def rating(rating_id: int):
    try:
        item = followups.get_rating(current_user, rating_id)
    except DomainError as exc:
        abort(exc.http_status)
    errors: dict = {}
    status = 200
    if request.method == "POST":
        try:
            with unit_of_work():
                followups.answer_rating(current_user, item, request.form.get("answer", ""),
                                            request.form.get("comment", ""))
        except DomainError as exc:
            if exc.http_status in (403, 404):
                abort(exc.http_status)
            errors, status = flash_domain_error(exc), 400
        else:
            flash(_("Thank you: your answer was saved."), "success")
            return redirect(url_for("notifications.rating", rating_id=rating_id))
    return render_template("notifications/rating.html", item=item, answers=RATING_ANSWERS,
                           answer_labels=notifications.RATING_LABELS, errors=errors,
                           can_answer=followups.can_answer_rating(current_user, item)), status


# --- funnel -------------------------------------------------------------------------------------------

@funnel_bp.route("/funnel")
@login_required
def index():
    try:
        data = funnel_service.funnel(current_user)
    except DomainError as exc:
        abort(exc.http_status)
    return render_template("brokering/funnel.html", data=data, steps=funnel_service.STEPS,
                           step_labels=funnel_service.STEP_LABELS, dimensions=funnel_service.DIMENSIONS,
                           dimension_labels=funnel_service.DIMENSION_LABELS, label_of=funnel_service.label_of,
                           frequencies=ALERT_FREQUENCIES)

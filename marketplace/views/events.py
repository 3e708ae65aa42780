"""Events: roadshows and Spark events, agendas, registration, calendars, follow-ups, reports.

1:1 meetings are in ``event_meetings``, participants and personal agendas in ``event_people``; all share the
``events`` blueprint of ``event_common``.
"""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.i18n import current_lang
from marketplace.links import site_url
from marketplace.queries import events as events_q
from marketplace.services import events as svc
from marketplace.services.errors import DomainError
from marketplace.services.unit_of_work import unit_of_work
from marketplace.settings import current_settings
from marketplace.views import event_meetings, event_people  # noqa: F401  (their routes join the blueprint)
from marketplace.views.event_common import act as _act
from marketplace.views.event_common import bp
from marketplace.views.event_common import load_event as _event
from marketplace.views.edit_forms import versioned_edit
from marketplace.views.helpers import flash_domain_error, form_dict

# --- lists, series ------------------------------------------------------------------------------------

@bp.route("/")
def index():
    return render_template("events/index.html", events=svc.visible_events(current_user),
                           series=svc.all_series(), can_create=svc.is_organiser(current_user))


@bp.route("/series", methods=["POST"])
@login_required
def new_series():
    try:
        with unit_of_work():
            series = svc.create_series(current_user, request.form.to_dict())
    except DomainError as exc:
        if exc.http_status == 403:
            raise
        flash_domain_error(exc)
        return redirect(url_for("events.index"))
    flash(_("Series created."), "success")
    return redirect(url_for("events.series", series_id=series.id))


@bp.route("/series/<int:series_id>")
def series(series_id: int):
    try:
        item = events_q.get_series(series_id)
    except DomainError as exc:
        abort(exc.http_status)
    return render_template("events/series.html", series=item, summary=svc.series_summary(item),
                           events=svc.visible_events(current_user, series_id=series_id))


# --- scheduling ---------------------------------------------------------------------------------------

@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    if not svc.is_organiser(current_user):
        abort(403)
    errors: dict = {}
    data = {"kind": request.args.get("kind", "roadshow"), "timezone": svc.DEFAULT_TZ, "meeting_minutes": 15,
            "meeting_slots": 0, "meeting_tables": 4, "audience": [], "series_id": request.args.get("series_id", "")}
    if request.method == "POST":
        data = form_dict(request.form, ("audience",))
        try:
            with unit_of_work():
                event = svc.create_event(current_user, data)
        except DomainError as exc:
            errors = flash_domain_error(exc)
        else:
            flash(_("Event saved as a draft. Add the agenda, then publish it."), "success")
            return redirect(url_for("events.agenda", event_id=event.id))
    return render_template("events/form.html", data=data, errors=errors, event=None,
                           series=svc.all_series()), (400 if errors else 200)


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@login_required
def edit(event_id: int):
    event = _event(event_id, manage=True)
    return versioned_edit(
        event.version, form_values=lambda: svc.event_form_data(event),
        read_form=lambda: form_dict(request.form, ("audience",)),
        save=lambda data, version: svc.update_event(current_user, event, data, expected_version=version),
        saved=_("Event saved."), next_url=url_for("events.detail", event_id=event_id), refused=(403, 404),
        render=lambda data, errors, status: (render_template("events/form.html", data=data, errors=errors,
                                                             event=event, series=svc.all_series()), status))


@bp.route("/<int:event_id>/publish", methods=["POST"])
@login_required
def publish(event_id: int):
    event = _event(event_id, manage=True)
    return _act(event_id, lambda: svc.publish(current_user, event), _("Event published."))


@bp.route("/<int:event_id>/cancel", methods=["POST"])
@login_required
def cancel(event_id: int):
    event = _event(event_id, manage=True)
    return _act(event_id, lambda: svc.cancel(current_user, event, request.form.get("reason", "")),
                _("Event cancelled; the registrants are told on their events page."))


@bp.route("/<int:event_id>/finish", methods=["POST"])
@login_required
def finish(event_id: int):
    event = _event(event_id, manage=True)
    return _act(event_id, lambda: svc.finish(current_user, event), _("Event marked as finished."))


@bp.route("/<int:event_id>")
def detail(event_id: int):
    event = _event(event_id)
    reg = svc.registration_of(current_user, event)
    return render_template(
        "events/detail.html", event=event, reg=reg, position=svc.waiting_position(reg) if reg else None,
        confirmed=svc.confirmed_count(event), can_manage=svc.can_manage(current_user, event),
        attendee=svc.is_attendee(current_user, event), meetings=svc.my_meetings(current_user, event),
        participant=svc.is_participant(current_user, event), slot_total=svc.slot_count(event))


# --- agenda -------------------------------------------------------------------------------------------

@bp.route("/<int:event_id>/agenda", methods=["GET", "POST"])
@login_required
def agenda(event_id: int):
    event = _event(event_id, manage=True)
    errors: dict = {}
    data: dict = {"offer_id": request.args.get("offer_id", ""), "meeting_capacity": 4}
    if request.method == "POST":
        data = request.form.to_dict()
        try:
            with unit_of_work():
                svc.add_item(current_user, event, data)
        except DomainError as exc:
            if exc.http_status in (403, 404):
                raise
            errors = flash_domain_error(exc)
        else:
            flash(_("Agenda item added."), "success")
            return redirect(url_for("events.agenda", event_id=event_id))
    q = request.args.get("q", "")
    return render_template("events/agenda.html", event=event, data=data, errors=errors, q=q,
                           candidates=svc.catalogue_candidates(current_user, q),
                           presenters=svc.presenter_choices(event, data.get("offer_id")),
                           suggestions={i.id: svc.attendance_suggestions(current_user, i) for i in event.items}), (
        400 if errors else 200)


@bp.route("/<int:event_id>/agenda/<int:item_id>/delete", methods=["POST"])
@login_required
def remove_item(event_id: int, item_id: int):
    event = _event(event_id, manage=True)
    item = svc.get_item(current_user, event, item_id)
    return _act(event_id, lambda: svc.remove_item(current_user, event, item), _("Agenda item removed."),
                url_for("events.agenda", event_id=event_id))


# --- registration and calendars -----------------------------------------------------------------------

@bp.route("/<int:event_id>/register", methods=["POST"])
@login_required
def register(event_id: int):
    event = _event(event_id)
    try:
        with unit_of_work():
            reg = svc.register(current_user, event)
    except DomainError as exc:
        if exc.http_status in (403, 404):
            raise
        flash_domain_error(exc)
    else:
        if reg.status == "confirmed":
            flash(_("You are registered. Add the event to your calendar below."), "success")
        else:
            flash(_("The event is full: you are on the waiting list and will get a place if one frees up."),
                  "warning")
    return redirect(url_for("events.detail", event_id=event_id))


@bp.route("/<int:event_id>/unregister", methods=["POST"])
@login_required
def unregister(event_id: int):
    event = _event(event_id)
    return _act(event_id, lambda: svc.cancel_registration(current_user, event), _("Your registration is cancelled."))


def _calendar(body: str, filename: str) -> Response:
    return Response(body, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "private, max-age=300"})


@bp.route("/<int:event_id>.ics")
def event_ics(event_id: int):
    event = _event(event_id)
    meetings = svc.my_meetings(current_user, event, scheduled_only=True)
    return _calendar(svc.ics([(event, meetings)], request.host, current_lang(), viewer_id=current_user.get_id() and current_user.id,
                             links=svc.may_see_meeting_link(current_user, event)), f"event-{event.id}.ics")


@bp.route("/calendar/<token>.ics")
def feed(token: str):
    user = svc.user_for_token(token)
    if user is None or not user.is_active:
        abort(404)
    return _calendar(svc.ics(svc.feed_events(user), request.host, user.locale or "zh", "TechBridge",
                             viewer_id=user.id),
                     "techbridge-events.ics")


@bp.route("/mine")
@login_required
def mine():
    with unit_of_work():
        token = svc.calendar_token(current_user)
    regs = svc.my_registrations(current_user)
    return render_template("events/mine.html", regs=regs, feed_url=site_url("events.feed", token=token),
                           positions={r.id: svc.waiting_position(r) for r in regs})


# --- interests, follow-ups, report --------------------------------------------------------------------

@bp.route("/<int:event_id>/items/<int:item_id>/interest", methods=["POST"])
@login_required
def interest(event_id: int, item_id: int):
    event = _event(event_id)
    item = svc.get_item(current_user, event, item_id)
    return _act(event_id, lambda: svc.mark_interest(current_user, event, item, request.form.get("kind", ""),
                                                    request.form.get("note", "")),
                _("Interest recorded; the presenter or a technology manager will follow up."))


@bp.route("/<int:event_id>/follow-ups")
@login_required
def follow_ups(event_id: int):
    event = _event(event_id)
    rows = svc.follow_ups(current_user, event)
    return render_template("events/follow_ups.html", event=event, rows=rows,
                           needs={i.id: svc.interest_needs(i) for i in rows},
                           handles={i.id: svc.can_handle_follow_up(current_user, i) for i in rows},
                           is_broker=current_user.has_role("broker", "operator"))


def _follow_up_action(interest_id: int, action, success: str):
    interest = svc.get_interest(current_user, interest_id)
    return _act(interest.event_id, lambda: action(interest), success,
                url_for("events.follow_ups", event_id=interest.event_id))


@bp.route("/follow-ups/<int:interest_id>/introduce", methods=["POST"])
@login_required
def introduce(interest_id: int):
    return _follow_up_action(interest_id, lambda i: svc.to_introduction(
        current_user, i, request.form.get("need_id") or None, request.form.get("message", ""),
        expiry_days=current_settings().introduction_expiry_days),
        _("Introduction proposed: both sides are asked to accept or decline."))


@bp.route("/follow-ups/<int:interest_id>/claim", methods=["POST"])
@login_required
def claim(interest_id: int):
    return _follow_up_action(interest_id, lambda i: svc.claim(current_user, i), _("You own this follow-up now."))


@bp.route("/follow-ups/<int:interest_id>/close", methods=["POST"])
@login_required
def close(interest_id: int):
    return _follow_up_action(interest_id, lambda i: svc.close_follow_up(current_user, i,
                                                                        request.form.get("reason", "")),
                             _("Follow-up closed."))

"""Event participants: profiles, the participant list, availability, the personal agenda and check-in."""
from __future__ import annotations

from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.queries import events as events_q
from marketplace.services import events as svc
from marketplace.views.edit_forms import versioned_edit
from marketplace.views.event_common import act, bp, load_event
from marketplace.views.helpers import form_dict
from marketplace.vocabulary import options


@bp.route("/<int:event_id>/participants")
@login_required
def participants(event_id: int):
    event = load_event(event_id)
    filters = {key: (request.args.get(key) or "").strip()[:100] for key in ("q", "kind", "field", "looking_for")}
    rows = events_q.participants(current_user, event, **filters)
    return render_template("events/participants.html", event=event, rows=rows, filters=filters,
                           kinds=options("org_kind"), purposes=options("purpose"), fields=svc.field_choices())


@bp.route("/<int:event_id>/participants/<int:user_id>")
@login_required
def participant(event_id: int, user_id: int):
    event = load_event(event_id)
    row = events_q.participant(current_user, event, user_id)
    slots = events_q.slot_rows(event, current_user)
    common = set(svc.common_slots(event, current_user.id, user_id)) if svc.is_participant(current_user, event) else set()
    return render_template("events/participant.html", event=event, row=row, slots=slots, common=common,
                           is_me=user_id == current_user.id, may_ask=svc.is_participant(current_user, event))


@bp.route("/<int:event_id>/profile", methods=["GET", "POST"])
@login_required
def profile(event_id: int):
    event = load_event(event_id)
    svc.require_participants_view(current_user, event)
    shown = svc.profile_form_data(current_user, event)  # "version" is "" before the first save
    return versioned_edit(
        shown["version"], form_values=lambda: shown, read_form=_posted_profile,
        save=lambda data, version: svc.save_profile(current_user, event, data, expected_version=version),
        saved=_("Your profile for this event is saved."), next_url=url_for("events.participants", event_id=event_id),
        refused=(403, 404),
        render=lambda data, errors, status: (render_template(
            "events/profile.html", event=event, data=data, errors=errors, kinds=options("org_kind"),
            purposes=options("purpose"), zones=options("timezone"), fields=svc.field_choices()), status))


def _posted_profile() -> dict:
    data = form_dict(request.form, ("fields", "looking_for"))
    data["meetings_opt_in"] = bool(request.form.get("meetings_opt_in"))
    return data


@bp.route("/<int:event_id>/availability", methods=["GET", "POST"])
@login_required
def availability(event_id: int):
    event = load_event(event_id)
    svc.require_participants_view(current_user, event)
    if request.method == "POST":
        return act(event_id, lambda: svc.set_availability(current_user, event, request.form.getlist("slot")),
                   _("Your free times are saved."), url_for("events.availability", event_id=event_id))
    return render_template("events/availability.html", event=event, slots=events_q.slot_rows(event, current_user),
                           free=svc.free_slots(event, current_user.id),
                           busy=svc.busy_slots(event, current_user.id))


@bp.route("/<int:event_id>/my-agenda")
@login_required
def my_agenda(event_id: int):
    event = load_event(event_id)
    agenda = events_q.my_agenda(current_user, event)
    return render_template("events/my_agenda.html", event=event, agenda=agenda)


@bp.route("/<int:event_id>/check-in", methods=["POST"])
@login_required
def check_in(event_id: int):
    event = load_event(event_id)
    return act(event_id, lambda: svc.check_in(current_user, event), _("You are checked in. Welcome!"),
               url_for("events.my_agenda", event_id=event_id))

"""1:1 meetings at events: requests (about an agenda item or to any participant), answers with a time, moves,
cancellations, check-in, notes, interests after a meeting, meeting windows and the scheduler run."""
from __future__ import annotations

from flask import flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from marketplace.queries import events as events_q
from marketplace.services import events as svc
from marketplace.views.event_common import act, bp, load_event


def _agenda(event_id: int) -> str:
    return url_for("events.my_agenda", event_id=event_id)


@bp.route("/<int:event_id>/items/<int:item_id>/meetings", methods=["POST"])
@login_required
def request_meeting(event_id: int, item_id: int):
    event = load_event(event_id)
    item = svc.get_item(current_user, event, item_id)
    return act(event_id, lambda: svc.request_meeting(current_user, event, item, request.form.get("reason", ""),
                                                     request.form.get("priority", 2), request.form.get("slot")),
               _("Meeting requested; the presenter will accept or decline."))


@bp.route("/<int:event_id>/participants/<int:user_id>/meetings", methods=["POST"])
@login_required
def request_person(event_id: int, user_id: int):
    event = load_event(event_id)
    svc.require_participants_view(current_user, event)
    return act(event_id, lambda: svc.request_person(current_user, event, user_id, request.form.get("reason", ""),
                                                    request.form.get("slot"), request.form.get("priority", 2)),
               _("Meeting requested; you will hear when they answer."),
               url_for("events.participant", event_id=event_id, user_id=user_id))


@bp.route("/<int:event_id>/meetings/<int:meeting_id>/answer", methods=["POST"])
@login_required
def answer_meeting(event_id: int, meeting_id: int):
    event = load_event(event_id)
    meeting = svc.get_meeting(current_user, event, meeting_id)
    # Back where the answer was given: My agenda, or the meetings page (presenters, organisers).
    target = _agenda(event_id) if request.form.get("back") == "agenda" else url_for("events.meetings",
                                                                                    event_id=event_id)
    return act(event_id, lambda: svc.answer_meeting(current_user, meeting, request.form.get("decision", ""),
                                                    request.form.get("reason", ""), request.form.get("slot")),
               _("Your answer was recorded."), target)


@bp.route("/<int:event_id>/meetings/<int:meeting_id>/move", methods=["POST"])
@login_required
def reschedule(event_id: int, meeting_id: int):
    event = load_event(event_id)
    meeting = svc.get_meeting(current_user, event, meeting_id)
    return act(event_id, lambda: svc.reschedule(current_user, meeting, request.form.get("slot")),
               _("Meeting moved; the other side is told."), _agenda(event_id))


@bp.route("/<int:event_id>/meetings/<int:meeting_id>/cancel", methods=["POST"])
@login_required
def cancel_meeting(event_id: int, meeting_id: int):
    event = load_event(event_id)
    meeting = svc.get_meeting(current_user, event, meeting_id)
    return act(event_id, lambda: svc.cancel_meeting(current_user, meeting, request.form.get("reason", "")),
               _("Meeting cancelled; the other side is told."), _agenda(event_id))


@bp.route("/<int:event_id>/meetings/<int:meeting_id>/check-in", methods=["POST"])
@login_required
def check_in_meeting(event_id: int, meeting_id: int):
    event = load_event(event_id)
    meeting = svc.get_meeting(current_user, event, meeting_id)
    return act(event_id, lambda: svc.check_in_meeting(current_user, meeting), _("You are checked in."),
               _agenda(event_id))


@bp.route("/<int:event_id>/meetings/<int:meeting_id>/note", methods=["POST"])
@login_required
def meeting_note(event_id: int, meeting_id: int):
    event = load_event(event_id)
    meeting = svc.get_meeting(current_user, event, meeting_id)
    return act(event_id, lambda: svc.save_note(current_user, meeting, request.form.get("body", "")),
               _("Note saved; only you can read it."), _agenda(event_id))


@bp.route("/<int:event_id>/meetings/<int:meeting_id>/interest", methods=["POST"])
@login_required
def meeting_interest(event_id: int, meeting_id: int):
    event = load_event(event_id)
    meeting = svc.get_meeting(current_user, event, meeting_id)
    return act(event_id, lambda: svc.mark_meeting_interest(current_user, meeting, request.form.get("kind", ""),
                                                           request.form.get("offer_id"),
                                                           request.form.get("note", "")),
               _("Interest recorded; the other side or a technology manager will follow up."), _agenda(event_id))


@bp.route("/<int:event_id>/meetings")
@login_required
def meetings(event_id: int):
    event = load_event(event_id)
    can_manage = svc.can_manage(current_user, event)
    rows = svc.all_meetings(current_user, event) if can_manage else svc.my_meetings(current_user, event)
    return render_template("events/meetings.html", event=event, rows=rows, can_manage=can_manage,
                           windows=svc.windows(event) if can_manage else [],
                           slot_total=svc.slot_count(event), other=events_q.other_party)


@bp.route("/<int:event_id>/meetings/windows", methods=["POST"])
@login_required
def add_window(event_id: int):
    event = load_event(event_id, manage=True)
    return act(event_id, lambda: svc.add_window(current_user, event, request.form.to_dict()),
               _("Meeting window added."), url_for("events.meetings", event_id=event_id))


@bp.route("/<int:event_id>/meetings/windows/<int:window_id>/delete", methods=["POST"])
@login_required
def remove_window(event_id: int, window_id: int):
    event = load_event(event_id, manage=True)
    return act(event_id, lambda: svc.remove_window(current_user, event, window_id),
               _("Meeting window removed."), url_for("events.meetings", event_id=event_id))


@bp.route("/<int:event_id>/meetings/schedule", methods=["POST"])
@login_required
def schedule(event_id: int):
    event = load_event(event_id, manage=True)
    result = {}

    def run():
        result["schedule"] = svc.run_scheduler(current_user, event)

    response = act(event_id, run, _("Timetable computed; everybody sees their meetings."),
                   url_for("events.meetings", event_id=event_id))
    if "schedule" in result and result["schedule"].unplaced:
        flash(_("%(n)d accepted requests did not fit in the slots.", n=len(result["schedule"].unplaced)), "warning")
    return response

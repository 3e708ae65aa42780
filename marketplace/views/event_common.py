"""What every events page shares: the blueprint, template helpers, loading an event, running one change."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user

from marketplace.queries import events as events_q
from marketplace.services import events as svc
from marketplace.services.errors import DomainError
from marketplace.services.unit_of_work import unit_of_work
from marketplace.views.helpers import flash_domain_error

bp = Blueprint("events", __name__, url_prefix="/events")


@bp.context_processor
def _helpers():
    def at(value, event, fmt="%Y-%m-%d %H:%M", tz_name=None):
        moment = svc.local(value, tz_name or event.timezone)
        return moment.strftime(fmt) if moment else ""

    def iso(value):
        return svc.aware(value).isoformat() if value else ""

    return {"at": at, "iso": iso, "kind_labels": svc.KIND_LABELS, "status_labels": svc.STATUS_LABELS,
            "audience_labels": svc.AUDIENCE_LABELS, "registration_labels": svc.REGISTRATION_LABELS,
            "meeting_labels": svc.MEETING_LABELS, "priority_labels": svc.PRIORITY_LABELS,
            "interest_labels": svc.INTEREST_LABELS, "follow_up_labels": svc.FOLLOW_UP_LABELS,
            "meeting_time": svc.meeting_time, "meeting_end": svc.meeting_end, "video_link": svc.video_link,
            "interest_title": svc.interest_title, "interest_offer_id": svc.interest_offer_id,
            "can_manage_event": lambda e: svc.can_manage(current_user, e)}


def load_event(event_id: int, manage: bool = False):
    """The event if the current user may see it (and manage it, with ``manage``), else 404 / 403."""
    event = events_q.get_event(current_user, event_id)
    if manage:
        svc.require_manage(current_user, event)
    return event


def act(event_id: int, action, success: str, target: str | None = None):
    """Run one change in a unit of work; 403/404 propagate, other domain errors flash."""
    try:
        with unit_of_work():
            action()
    except DomainError as exc:
        if exc.http_status in (403, 404):
            raise
        flash_domain_error(exc)
    else:
        flash(success, "success")
    return redirect(target or url_for("events.detail", event_id=event_id))

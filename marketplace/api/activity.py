"""/api/v1/introductions and /api/v1/events: brokered introductions through the pipeline, and events."""
from __future__ import annotations


from marketplace.api import auth
from marketplace.api import docking as docking_api
from marketplace.api import representations as rep
from marketplace.api.common import IF_MATCH_DOC, api_blueprint, page_envelope, send_etag, versioned_update
from marketplace.api.schemas.activity import (
    EventCancelIn,
    EventCreateIn,
    EventDetailOut,
    EventIn,
    EventListArgs,
    EventPage,
    IntroductionDetailOut,
    IntroductionListArgs,
    IntroductionPage,
    IntroductionRespondIn,
    IntroductionStageIn,
    IntroductionValueIn,
    RegistrationOut,
)
from marketplace.api.schemas.docking import IntroductionCreateIn
from marketplace.models import Event, Introduction
from marketplace.queries import brokering as brokering_q
from marketplace.queries import events as events_q
from marketplace.queries.paging import api_per_page
from marketplace.services import brokering
from marketplace.services import events as event_service
from marketplace.services.unit_of_work import unit_of_work
from marketplace.settings import current_settings
from marketplace.links import site_url

intros_bp = api_blueprint("api_introductions", __name__, url_prefix="/api/v1/introductions",
                      description="Introductions requested by members or proposed by technology managers, "
                                  "answered by both sides and followed through the pipeline to a signed deal.")
events_bp = api_blueprint("api_events", __name__, url_prefix="/api/v1/events",
                      description="Patent roadshows and Spark technology-transfer events, with registration.")


def introduction(intro: Introduction, *, with_history: bool = False, user=None) -> dict:
    out = {k: getattr(intro, k) for k in ("id", "need_id", "offer_id", "broker_id", "source", "purpose",
                                          "requester_side", "requested_by_id", "mediation_requested", "message",
                                          "stage", "stage_changed_at", "need_response", "need_reason",
                                          "offer_response", "offer_reason", "expires_at", "lost_reason")}
    out["need_organization"] = docking_api.organization_for(user, intro, "need")
    out["offer_organization"] = docking_api.organization_for(user, intro, "offer")
    out["deal_value_rmb"] = rep.number(intro.deal_value_rmb)
    out["url"] = site_url("brokering.detail", intro_id=intro.id)
    if with_history:
        out["history"] = [{"kind": e.kind, "side": e.side, "from_stage": e.from_stage, "to_stage": e.to_stage,
                           "value_rmb": rep.number(e.value_rmb), "reason": e.reason, "actor_id": e.actor_id,
                           "created_at": e.created_at} for e in brokering.history(user, intro)]
        out["contacts"] = docking_api.contacts(user, intro)
    return out


def _intro(user, intro_id: int) -> Introduction:
    return brokering_q.get_introduction(user, intro_id)


@intros_bp.route("/", methods=["GET"])
@intros_bp.arguments(IntroductionListArgs, location="query", as_kwargs=True)
@intros_bp.response(200, IntroductionPage)
def list_introductions(page, per_page=None, stage=None, need_id=None, offer_id=None):
    """Introductions you broker, your organisations take part in, or (operators) all of them."""
    user = auth.require_caller()
    found = brokering_q.list_introductions(user, stage=stage, need_id=need_id, offer_id=offer_id, page=page,
                                           per_page=api_per_page(per_page))
    return page_envelope(found, lambda intro: introduction(intro, user=user))


@intros_bp.route("/", methods=["POST"])
@intros_bp.arguments(IntroductionCreateIn)
@intros_bp.response(201, IntroductionDetailOut)
@intros_bp.alt_response(404, response="NOT_FOUND")  # the offer, need or organisation named
@auth.write_access
def create_introduction(data):
    """Ask to be introduced (members: `purpose`, `message` and the offer, need or organisation asked about; with
    your own need or offer as the other end when it concerns one), or, as a technology manager, propose that a
    need's and an offer's organisations talk (`need_id`, `offer_id`, no `purpose`). The other side is notified."""
    user = auth.require_caller()
    with unit_of_work():
        if docking_api.is_proposal(user, data):
            intro = brokering.propose(user, data["need_id"], data["offer_id"], data["message"],
                                      expiry_days=current_settings().introduction_expiry_days)
        else:
            intro = docking_api.request_introduction(user, data)
        body = introduction(intro, with_history=True, user=user)
    return body


@intros_bp.route("/<int:intro_id>", methods=["GET"])
@intros_bp.response(200, IntroductionDetailOut)
def get_introduction(intro_id):
    """One introduction with its full history."""
    user = auth.require_caller()
    intro = _intro(user, intro_id)
    send_etag(intro)
    return introduction(intro, with_history=True, user=user)


@intros_bp.route("/<int:intro_id>/respond", methods=["POST"])
@intros_bp.arguments(IntroductionRespondIn)
@intros_bp.response(200, IntroductionDetailOut)
@auth.write_access
def respond_introduction(data, intro_id):
    """Accept or decline for your side; declining needs a reason."""
    user = auth.require_caller()
    with unit_of_work():
        intro = brokering.respond(user, _intro(user, intro_id), data["decision"], data.get("reason", ""),
                                  side=data.get("side"))
        body = introduction(intro, with_history=True, user=user)
    return body


@intros_bp.route("/<int:intro_id>/stage", methods=["POST"])
@intros_bp.arguments(IntroductionStageIn)
@intros_bp.response(200, IntroductionDetailOut)
@auth.write_access
def move_introduction(data, intro_id):
    """Move an accepted introduction to another pipeline stage (the broker or an operator)."""
    user = auth.require_caller()
    with unit_of_work():
        intro = brokering.move(user, _intro(user, intro_id), data["to_stage"], data.get("reason", ""),
                               from_stage=data.get("from_stage"), remote_addr=auth.remote_addr())
        body = introduction(intro, with_history=True, user=user)
    return body


@intros_bp.route("/<int:intro_id>/deal-value", methods=["PUT"])
@intros_bp.doc(**IF_MATCH_DOC)
@intros_bp.arguments(IntroductionValueIn)
@intros_bp.response(200, IntroductionDetailOut)
@auth.write_access
def set_deal_value(data, intro_id):
    """Record the expected or signed deal value in RMB (null clears it)."""
    user = auth.require_caller()
    return versioned_update(
        lambda version: brokering.set_deal_value(user, _intro(user, intro_id), data["deal_value_rmb"],
                                                 expected_version=version),
        lambda intro: introduction(intro, with_history=True, user=user))


# --- events -------------------------------------------------------------------------------------------

def event_body(event: Event, user, *, with_agenda: bool = False) -> dict:
    out = {k: getattr(event, k) for k in ("id", "kind", "status", "series_id", "title_zh", "title_en",
                                          "description_zh", "description_en", "starts_at", "ends_at", "timezone",
                                          "capacity", "registration_deadline", "cancel_reason")}
    out["audience"] = list(event.audience or [])
    out["confirmed"] = event_service.confirmed_count(event)
    reg = event_service.registration_of(user, event)
    out["my_registration"] = reg.status if reg else None
    insider = event_service.can_manage(user, event) or (reg is not None and reg.status == "confirmed")
    out["meeting_url"] = event.meeting_url if insider else None
    out["url"] = site_url("events.detail", event_id=event.id)
    if with_agenda:
        out["agenda"] = [{"id": i.id, "offer_id": i.offer_id,
                          "title_zh": i.project_title_zh or (i.offer.title_zh if i.offer else ""),
                          "title_en": i.project_title_en or (i.offer.title_en if i.offer else ""),
                          "organization_id": i.organization_id, "starts_at": i.starts_at, "ends_at": i.ends_at}
                         for i in event.items]
    return out


def _event(user, event_id: int) -> Event:
    return events_q.get_event(user, event_id)


@events_bp.route("/", methods=["GET"])
@events_bp.arguments(EventListArgs, location="query", as_kwargs=True)
@events_bp.response(200, EventPage)
def list_events(page, per_page=None, kind=None, status=None, upcoming=None):
    """Published events (and your own drafts when you organise), latest first."""
    user = auth.caller()
    found = events_q.list_events(user, kind=kind, status=status, upcoming=bool(upcoming), page=page,
                                 per_page=api_per_page(per_page))
    return page_envelope(found, lambda e: event_body(e, user))


@events_bp.route("/", methods=["POST"])
@events_bp.arguments(EventCreateIn)
@events_bp.response(201, EventDetailOut)
@auth.write_access
def create_event(data):
    """Schedule an event as a draft (organisers and operators)."""
    user = auth.require_caller()
    with unit_of_work():
        event = event_service.create_event(user, dict(data))
        body = event_body(event, user, with_agenda=True)
    return body


@events_bp.route("/<int:event_id>", methods=["GET"])
@events_bp.response(200, EventDetailOut)
def get_event(event_id):
    """One event with its agenda."""
    user = auth.caller()
    event = _event(user, event_id)
    send_etag(event)
    return event_body(event, user, with_agenda=True)


@events_bp.route("/<int:event_id>", methods=["PATCH"])
@events_bp.doc(**IF_MATCH_DOC)
@events_bp.arguments(EventIn)
@events_bp.response(200, EventDetailOut)
@auth.write_access
def update_event(data, event_id):
    """Change an event you organise; fields left out keep their values."""
    user = auth.require_caller()
    return versioned_update(
        lambda version: event_service.update_event(user, _event(user, event_id), data, expected_version=version,
                                                   keep_unsent=True),
        lambda event: event_body(event, user, with_agenda=True))


def _transition(event_id: int, action) -> dict:
    user = auth.require_caller()
    with unit_of_work():
        event = action(user, _event(user, event_id))
        body = event_body(event, user, with_agenda=True)
    return body


@events_bp.route("/<int:event_id>/publish", methods=["POST"])
@events_bp.response(200, EventDetailOut)
@auth.write_access
def publish_event(event_id):
    """Publish a draft event: it opens for registration."""
    return _transition(event_id, event_service.publish)


@events_bp.route("/<int:event_id>/cancel", methods=["POST"])
@events_bp.arguments(EventCancelIn)
@events_bp.response(200, EventDetailOut)
@auth.write_access
def cancel_event(data, event_id):
    """Cancel an event with a reason; registrants are told."""
    return _transition(event_id, lambda user, event: event_service.cancel(user, event, data["reason"]))


def _registration(reg) -> dict:
    return {"event_id": reg.event_id, "status": reg.status, "registered_at": reg.registered_at,
            "waiting_position": event_service.waiting_position(reg)}


@events_bp.route("/<int:event_id>/registration", methods=["POST"])
@events_bp.response(201, RegistrationOut)
@auth.write_access
def register(event_id):
    """Register for an event: a place if one is free, else the waiting list."""
    user = auth.require_caller()
    with unit_of_work():
        body = _registration(event_service.register(user, _event(user, event_id)))
    return body


@events_bp.route("/<int:event_id>/registration", methods=["DELETE"])
@events_bp.response(200, RegistrationOut)
@auth.write_access
def unregister(event_id):
    """Give your place back; the first on the waiting list gets it."""
    user = auth.require_caller()
    with unit_of_work():
        body = _registration(event_service.cancel_registration(user, _event(user, event_id)))
    return body

"""Introductions (brokered pairings followed to a deal) and events (roadshows, Spark events)."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from marketplace.api.schemas.common import (
    ApiSchema,
    ChoiceList,
    Id,
    OrganizationRef,
    PageArgs,
    Text,
    UtcDateTime,
    page_of,
)
from marketplace.api.schemas.docking import ContactOut
from marketplace.models.brokering import INTRODUCTION_SOURCES, INTRODUCTION_STAGES
from marketplace.models.events import AUDIENCES, EVENT_KINDS, EVENT_STATUSES
from marketplace.services.brokering import MOVE_TARGETS


class IntroductionListArgs(PageArgs):
    stage = fields.String(validate=validate.OneOf(INTRODUCTION_STAGES))
    need_id = Id()
    offer_id = Id()


class IntroductionRespondIn(ApiSchema):
    decision = fields.String(required=True, validate=validate.OneOf(("accepted", "declined")))
    reason = Text(2000, load_default="", metadata={"description": "required when declining"})
    side = fields.String(validate=validate.OneOf(("need", "offer")),
                         metadata={"description": "only when you belong to both organisations"})


class IntroductionStageIn(ApiSchema):
    to_stage = fields.String(required=True, validate=validate.OneOf(MOVE_TARGETS))
    reason = Text(2000, load_default="", metadata={"description": "required for 'lost'"})
    from_stage = fields.String(load_default=None, allow_none=True, metadata={
        "description": "the stage the caller saw; if another move landed first the move is refused with 409"})


class IntroductionValueIn(ApiSchema):
    deal_value_rmb = fields.Float(required=True, allow_none=True, validate=validate.Range(min=0, max=1e14 - 1))


class IntroductionEventOut(ma.Schema):
    kind = fields.String(required=True)
    side = fields.String(allow_none=True)
    from_stage = fields.String(allow_none=True)
    to_stage = fields.String(allow_none=True)
    value_rmb = fields.Float(allow_none=True)
    reason = fields.String(allow_none=True)
    actor_id = fields.Integer(allow_none=True)
    created_at = UtcDateTime(allow_none=True)


HIDDEN_NOTE = "null while a \"mediated only\" organisation has not accepted (its identity stays hidden)"


class IntroductionOut(ma.Schema):
    id = fields.Integer(required=True)
    need_id = fields.Integer(required=True, allow_none=True, metadata={"description": "null for a request "
                                                                                     "without a need"})
    offer_id = fields.Integer(required=True, allow_none=True, metadata={"description": "null for a request "
                                                                                       "without an offer"})
    need_organization = fields.Nested(OrganizationRef, required=True, allow_none=True,
                                      metadata={"description": HIDDEN_NOTE})
    offer_organization = fields.Nested(OrganizationRef, required=True, allow_none=True,
                                       metadata={"description": HIDDEN_NOTE})
    broker_id = fields.Integer(allow_none=True)
    source = fields.String(required=True, validate=validate.OneOf(INTRODUCTION_SOURCES),
                           metadata={"description": "request: asked for by a member"})
    purpose = fields.String(required=True, allow_none=True, metadata={"description": "why a member asked"})
    requester_side = fields.String(required=True, allow_none=True,
                                   metadata={"description": "need / offer: the side of the member who asked"})
    requested_by_id = fields.Integer(allow_none=True)
    mediation_requested = fields.Boolean(required=True)
    message = fields.String(required=True)
    stage = fields.String(required=True)
    stage_changed_at = UtcDateTime(allow_none=True)
    need_response = fields.String(required=True)
    need_reason = fields.String(required=True)
    offer_response = fields.String(required=True)
    offer_reason = fields.String(required=True)
    expires_at = UtcDateTime(allow_none=True)
    deal_value_rmb = fields.Float(allow_none=True)
    lost_reason = fields.String(required=True)
    url = fields.String(required=True)


class IntroductionDetailOut(IntroductionOut):
    history = fields.List(fields.Nested(IntroductionEventOut), required=True)
    contacts = fields.List(fields.Nested(ContactOut), required=True,
                           metadata={"description": "each side's contact person once both sides accepted; "
                                                    "empty before"})


class EventListArgs(PageArgs):
    kind = fields.String(validate=validate.OneOf(EVENT_KINDS))
    status = fields.String(validate=validate.OneOf(EVENT_STATUSES))
    upcoming = fields.Boolean(metadata={"description": "only events that have not ended"})


class EventIn(ApiSchema):
    """Times are local to the event's time zone, as `YYYY-MM-DD HH:MM` or ISO 8601."""

    kind = fields.String(validate=validate.OneOf(EVENT_KINDS))
    series_id = Id(allow_none=True)
    title_zh = Text(300)
    title_en = Text(300)
    description_zh = Text(20000)
    description_en = Text(20000)
    starts_at = Text(40)
    ends_at = Text(40)
    timezone = Text(64)
    meeting_url = Text(500)
    capacity = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=100000))
    registration_deadline = Text(40)
    audience = ChoiceList(AUDIENCES)


class EventCreateIn(EventIn):
    kind = fields.String(required=True, validate=validate.OneOf(EVENT_KINDS))
    starts_at = Text(40, required=True)
    ends_at = Text(40, required=True)


class AgendaItemOut(ma.Schema):
    id = fields.Integer(required=True)
    offer_id = fields.Integer(allow_none=True)
    title_zh = fields.String(required=True)
    title_en = fields.String(required=True)
    organization_id = fields.Integer(allow_none=True)
    starts_at = UtcDateTime(allow_none=True)
    ends_at = UtcDateTime(allow_none=True)


class EventOut(ma.Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True)
    series_id = fields.Integer(allow_none=True)
    title_zh = fields.String(required=True)
    title_en = fields.String(required=True)
    description_zh = fields.String(required=True)
    description_en = fields.String(required=True)
    starts_at = UtcDateTime(required=True)
    ends_at = UtcDateTime(required=True)
    timezone = fields.String(required=True)
    capacity = fields.Integer(allow_none=True)
    confirmed = fields.Integer(required=True, metadata={"description": "confirmed registrations"})
    registration_deadline = UtcDateTime(allow_none=True)
    audience = fields.List(fields.String(), required=True)
    meeting_url = fields.String(allow_none=True, metadata={"description": "for registrants and organisers"})
    cancel_reason = fields.String(required=True)
    my_registration = fields.String(allow_none=True, metadata={"description": "confirmed / waitlisted / …"})
    url = fields.String(required=True)


class EventDetailOut(EventOut):
    agenda = fields.List(fields.Nested(AgendaItemOut), required=True)


class RegistrationOut(ma.Schema):
    event_id = fields.Integer(required=True)
    status = fields.String(required=True)
    registered_at = UtcDateTime(allow_none=True)
    waiting_position = fields.Integer(allow_none=True)


class EventCancelIn(ApiSchema):
    reason = Text(2000, required=True)


IntroductionPage = page_of(IntroductionOut, "IntroductionPage")
EventPage = page_of(EventOut, "EventPage")

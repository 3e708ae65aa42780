"""Docking: members' introduction requests, the conversation of an introduction, and the contacts it opens."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from marketplace.api.schemas.common import ApiSchema, CleanString, Id, PageArgs, Text, UtcDateTime, page_of
from marketplace.models.brokering import REQUEST_PURPOSES
from marketplace.models.docking import MESSAGE_MAX_CHARS, MESSAGE_SIDES


class IntroductionCreateIn(ApiSchema):
    """A member's request (with `purpose`), or a technology manager's proposal (`need_id` and `offer_id`, no
    `purpose`)."""

    offer_id = Id(metadata={"description": "the offer asked about, or your own offer when answering a need"})
    need_id = Id(metadata={"description": "the need asked about, or your own need the request concerns"})
    organization_id = Id(metadata={"description": "ask to be introduced to this organisation (from its profile)"})
    as_organization_id = Id(metadata={"description": "which of your organisations asks (when you belong to "
                                                     "several)"})
    message = Text(5000, required=True, metadata={"description": "shown to the other side (requests: at most "
                                                                "2000 characters)"})
    purpose = fields.String(validate=validate.OneOf(REQUEST_PURPOSES),
                            metadata={"description": "why you ask; required for a member's request"})
    mediation = fields.Boolean(load_default=False,
                               metadata={"description": "ask a technology manager to mediate"})


class ContactOut(ma.Schema):
    side = fields.String(required=True, validate=validate.OneOf(("need", "offer")))
    name = fields.String(required=True)
    email = fields.String(required=True)
    phone = fields.String(required=True)


class MessageListArgs(PageArgs):
    after_id = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**31 - 1),
                              metadata={"description": "only messages after this one (to poll for new ones)"})


class MessageIn(ApiSchema):
    body = CleanString(required=True, validate=validate.Length(min=1, max=MESSAGE_MAX_CHARS),
                       metadata={"description": "plain text (no HTML)"})


class AttachmentOut(ma.Schema):
    name = fields.String(required=True)
    content_type = fields.String(required=True)
    size = fields.Integer(required=True)


class MessageOut(ma.Schema):
    id = fields.Integer(required=True)
    introduction_id = fields.Integer(required=True)
    side = fields.String(required=True, validate=validate.OneOf(MESSAGE_SIDES),
                         metadata={"description": "need / offer, or platform for the broker and operators"})
    author_id = fields.Integer(allow_none=True)
    author_name = fields.String(required=True)
    body = fields.String(required=True)
    attachment = fields.Nested(AttachmentOut, allow_none=True)
    created_at = UtcDateTime(required=True)


MessagePage = page_of(MessageOut, "MessagePage")

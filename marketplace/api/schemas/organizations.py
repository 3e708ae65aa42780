"""Schemas of organisation profiles (changes), members and invitations."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from marketplace.api.schemas.common import ApiSchema, CleanString, Text, TextList, UtcDateTime
from marketplace.models.accounts import MEMBERSHIP_ROLES
from marketplace.models.organizations import GROWTH_STAGES, SIZE_CLASSES, SUB_PARKS

LONG = 20000


class OrganizationUpdateIn(ApiSchema):
    """Fields left out keep their values; ``null`` or "" clears sub-park and size."""

    name_zh = CleanString(validate=validate.Length(min=1, max=200))
    name_en = Text(200)
    short_name = Text(60)
    description_zh = Text(LONG)
    description_en = Text(LONG)
    website = Text(200)
    contact_name = Text(100)
    contact_email = Text(200)
    contact_phone = Text(40)
    sub_park = fields.String(allow_none=True, validate=validate.OneOf(SUB_PARKS + ("",)))
    size_class = fields.String(allow_none=True, validate=validate.OneOf(SIZE_CLASSES + ("",)))
    field_codes = TextList(max_items=10, item_length=40, metadata={"description": "taxonomy codes, e.g. D1.ivd"})
    growth_stage = fields.String(allow_none=True, validate=validate.OneOf(GROWTH_STAGES + ("",)))
    group_parent_id = fields.Integer(allow_none=True, validate=validate.Range(min=1), metadata={
        "description": "the organisation whose group this one belongs to: never paired with each other"})
    mediated_only = fields.Boolean(metadata={
        "description": "introductions show the organisation only once it accepted (the platform mediates)"})


class MemberOut(ma.Schema):
    membership_id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    display_name = fields.String(required=True)
    email = fields.String(required=True)
    role = fields.String(required=True, metadata={"description": "owner or member"})
    contact_email = fields.String(required=True, metadata={"description": "the member's own e-mail for introductions"})
    contact_phone = fields.String(required=True)
    joined_at = UtcDateTime(allow_none=True)


class MemberListOut(ma.Schema):
    items = fields.List(fields.Nested(MemberOut), required=True)


class MemberRoleIn(ApiSchema):
    role = fields.String(required=True, validate=validate.OneOf(MEMBERSHIP_ROLES))


class InvitationIn(ApiSchema):
    email = CleanString(required=True, validate=validate.Length(min=3, max=200))
    role = fields.String(load_default="member", validate=validate.OneOf(MEMBERSHIP_ROLES))


class InvitationOut(ma.Schema):
    id = fields.Integer(required=True)
    organization_id = fields.Integer(required=True)
    email = fields.String(required=True)
    role = fields.String(required=True)
    expires_at = UtcDateTime(required=True, metadata={
        "description": "the e-mailed link works once, until then (the link is never part of a response)"})

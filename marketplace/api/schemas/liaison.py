"""Schemas of enterprise liaison: a firm's reports to its sub-park and the staff's actions on them."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from marketplace.api.schemas.common import ApiSchema, CleanString, Id, UtcDateTime
from marketplace.models.liaison import REPORT_STATUSES, REPORT_TOPICS
from marketplace.services.policy.liaison import ACTIONS


class LiaisonReportOut(ma.Schema):
    id = fields.Integer(required=True)
    organization_id = fields.Integer(required=True)
    organization_name = fields.String(required=True, metadata={"description": "in the caller's language"})
    organization_short_name = fields.String(required=True, metadata={"description": "简称"})
    sub_park = fields.String(allow_none=True)
    sub_park_label = fields.String(required=True)
    topic = fields.String(required=True, metadata={"description": "one of " + ", ".join(REPORT_TOPICS)})
    topic_label = fields.String(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "one of " + ", ".join(REPORT_STATUSES)})
    status_label = fields.String(required=True)
    respond_by = UtcDateTime(required=True, metadata={"description": "the sub-park answers by then"})
    escalated_at = UtcDateTime(allow_none=True, metadata={"description": "set when the deadline passed unanswered"})
    answered_at = UtcDateTime(allow_none=True)
    answer = fields.String(required=True)
    routed_office = fields.String(allow_none=True, metadata={"description": "code of the office it was passed to"})
    need_id = fields.Integer(allow_none=True, metadata={"description": "the marketplace need it became"})
    result = fields.String(required=True)
    supply_chain_id = fields.Integer(allow_none=True)
    created_at = UtcDateTime(required=True)


class LiaisonReportListOut(ma.Schema):
    items = fields.List(fields.Nested(LiaisonReportOut), required=True)


class LiaisonReportListArgs(ApiSchema):
    status = fields.String(validate=validate.OneOf(REPORT_STATUSES))


class LiaisonReportIn(ApiSchema):
    organization_id = Id(required=True, metadata={"description": "one of your organisations"})
    topic = fields.String(required=True, validate=validate.OneOf(REPORT_TOPICS))
    title = CleanString(required=True, validate=validate.Length(min=1, max=200))
    body = CleanString(required=True, validate=validate.Length(min=1, max=5000))
    supply_chain_id = Id(metadata={"description": "for a supply-chain report: one of your supply chains"})


class LiaisonActionIn(ApiSchema):
    action = fields.String(required=True, validate=validate.OneOf(ACTIONS),
                           metadata={"description": "answer, route (to office_id), post_need or close"})
    text = CleanString(validate=validate.Length(max=5000), load_default="",
                       metadata={"description": "the answer or result, which the firm reads"})
    office_id = Id(metadata={"description": "the office, when routing"})

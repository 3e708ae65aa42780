"""Schemas of the policy desk: measures, a firm's matching measures, filings and their parts."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from marketplace.api.schemas.common import ApiSchema, CleanString, Id, Text, UtcDateTime
from marketplace.services.policy.filings import DIRECTIONS, MAX_MEASURES


class OfficeOut(ma.Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)
    contacts = fields.String(required=True)


class MeasureOut(ma.Schema):
    id = fields.Integer(required=True)
    number = fields.Integer(required=True, metadata={"description": "the measure's number in its source (第N条)"})
    source_code = fields.String(required=True)
    title_zh = fields.String(required=True)
    title_en = fields.String(required=True)
    beneficiaries_zh = fields.String(required=True)
    beneficiaries_en = fields.String(required=True)
    benefit_zh = fields.String(required=True)
    benefit_en = fields.String(required=True)
    max_amount_rmb = fields.Float(allow_none=True)
    status = fields.String(required=True)
    version = fields.Integer(required=True)
    offices = fields.List(fields.Nested(OfficeOut), required=True)


class MeasureListOut(ma.Schema):
    items = fields.List(fields.Nested(MeasureOut), required=True)


class MeasureListArgs(ApiSchema):
    q = Text(100, load_default="")


class CheckOut(ma.Schema):
    fact = fields.String(required=True)
    label = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "met, unmet or unknown"})
    shown = fields.String(required=True, metadata={"description": "the organisation's value, in words"})
    action = fields.String(required=True, metadata={"description": "what settles an unmet or unknown condition"})


class MeasureFitOut(ma.Schema):
    measure = fields.Nested(MeasureOut, required=True)
    verdict = fields.String(required=True, metadata={"description": "likely, possible or unlikely"})
    verdict_label = fields.String(required=True)
    checks = fields.List(fields.Nested(CheckOut), required=True)


class MatchListArgs(ApiSchema):
    organization_id = Id(metadata={"description": "one of your organisations (the first one by default)"})


class MeasureFitListOut(ma.Schema):
    organization_id = fields.Integer(required=True)
    items = fields.List(fields.Nested(MeasureFitOut), required=True)


class FilingIn(ApiSchema):
    organization_id = Id(required=True)
    measures = fields.List(fields.Integer(validate=validate.Range(min=1, max=1000)), required=True,
                           validate=validate.Length(min=1, max=MAX_MEASURES),
                           metadata={"description": "measure numbers, e.g. [2, 4, 7]"})
    project_name = CleanString(required=True, validate=validate.Length(min=1, max=300))
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS),
                              metadata={"description": "support direction, D1 to D5"})
    description = CleanString(required=True, validate=validate.Length(min=1, max=5000))
    contact_name = CleanString(required=True, validate=validate.Length(min=1, max=100))
    contact_phone = CleanString(required=True, validate=validate.Length(min=1, max=40))


class FilingPartOut(ma.Schema):
    id = fields.Integer(required=True)
    measure_number = fields.Integer(required=True)
    office = fields.String(allow_none=True, metadata={"description": "code of the reviewing office"})
    status = fields.String(required=True)
    status_label = fields.String(required=True)
    amount_rmb = fields.Float(allow_none=True)
    note = fields.String(required=True)
    decided_at = UtcDateTime(allow_none=True)


class FilingOut(ma.Schema):
    id = fields.Integer(required=True)
    organization_id = fields.Integer(required=True)
    title = fields.String(required=True, metadata={"description": "the record title, e.g. 20200206 XXX公司（第2、4、7条）"})
    project_name = fields.String(required=True)
    direction = fields.String(required=True)
    description = fields.String(required=True)
    contact_name = fields.String(required=True)
    contact_phone = fields.String(required=True)
    filed_on = fields.Date(required=True)
    parts = fields.List(fields.Nested(FilingPartOut), required=True)


class FilingListOut(ma.Schema):
    items = fields.List(fields.Nested(FilingOut), required=True)

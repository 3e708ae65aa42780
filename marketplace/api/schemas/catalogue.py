"""Offers (technologies, products, services, patents, financial products), needs, organisations, matches."""
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
    TextList,
    UtcDateTime,
    page_of,
)
from marketplace.models.catalogue import (
    CURATION_STAGES,
    FINANCIAL_PRODUCT_TYPES,
    OFFER_KINDS,
    OFFER_STATUSES,
    PARTNERSHIP_MODES,
    PATENT_LEGAL_STATUSES,
    REGULATORY_STATUSES,
    TRANSFER_MODES,
    VISIBILITIES,
)
from marketplace.models.needs import NEED_KINDS, NEED_STATUSES, URGENCIES
from marketplace.models.organizations import ORG_KINDS, SIZE_CLASSES
from marketplace.services.offers import INVEST_STAGES

LONG = 20000
MONEY = validate.Range(min=0, max=1e14 - 1)
PCT = validate.Range(min=0, max=100)


def _money(**kw):
    return fields.Float(validate=MONEY, allow_none=True, **kw)


# --- input --------------------------------------------------------------------------------------------

class PatentIn(ApiSchema):
    application_number = Text(20, metadata={"description": "CN application number, e.g. 202010123456.2 (ZL or CN prefix accepted)"})
    ipc_classes = TextList()
    applicants = TextList()
    inventors = TextList()
    filing_date = fields.Date(allow_none=True)
    grant_date = fields.Date(allow_none=True)
    legal_status = fields.String(validate=validate.OneOf(PATENT_LEGAL_STATUSES))
    claims_count = fields.Integer(validate=validate.Range(min=0, max=1000), allow_none=True)
    citations = fields.Integer(validate=validate.Range(min=0, max=100000), allow_none=True)
    family_size = fields.Integer(validate=validate.Range(min=1, max=1000), allow_none=True)
    transfer_willingness = fields.Integer(validate=validate.Range(min=1, max=5), allow_none=True)
    market_prospect = fields.Integer(validate=validate.Range(min=1, max=5), allow_none=True)
    transfer_modes = ChoiceList(TRANSFER_MODES)


class FinancialIn(ApiSchema):
    product_type = fields.String(validate=validate.OneOf(FINANCIAL_PRODUCT_TYPES))
    amount_min_rmb = _money()
    amount_max_rmb = _money()
    rate_min_pct = fields.Float(validate=PCT, allow_none=True)
    rate_max_pct = fields.Float(validate=PCT, allow_none=True)
    term_months_min = fields.Integer(validate=validate.Range(min=0, max=600), allow_none=True)
    term_months_max = fields.Integer(validate=validate.Range(min=0, max=600), allow_none=True)
    guarantee = Text(200)
    guarantee_fee_pct = fields.Float(validate=PCT, allow_none=True)
    eligibility_zh = Text(5000)
    eligibility_en = Text(5000)
    invest_fields = TextList()
    invest_stages = ChoiceList(INVEST_STAGES)
    ticket_min_rmb = _money()
    ticket_max_rmb = _money()
    collateral_required = fields.Boolean(allow_none=True)
    park_only = fields.Boolean(allow_none=True, metadata={"description": "only for firms registered in the park"})
    eligible_sizes = ChoiceList(SIZE_CLASSES)
    eligible_stages = ChoiceList(INVEST_STAGES)
    eligible_fields = TextList(max_items=20, item_length=20)


class OfferUpdateIn(ApiSchema):
    """Fields of an offer; on update, keys left out keep their values."""

    title_zh = Text(300)
    title_en = Text(300)
    summary_zh = Text(LONG)
    summary_en = Text(LONG)
    description_zh = Text(LONG)
    description_en = Text(LONG)
    problem_zh = Text(LONG)
    problem_en = Text(LONG)
    advantage_zh = Text(LONG)
    advantage_en = Text(LONG)
    scenarios_zh = Text(LONG)
    scenarios_en = Text(LONG)
    tags = TextList()
    field_codes = TextList(max_items=10, item_length=20, metadata={"description": "taxonomy codes, e.g. D1.ivd"})
    trl = fields.Integer(validate=validate.Range(min=1, max=9), allow_none=True,
                         metadata={"description": "technology readiness level 1-9"})
    regulatory_statuses = ChoiceList(REGULATORY_STATUSES)
    partnership_modes = ChoiceList(PARTNERSHIP_MODES)
    ip_status = Text(200)
    price_terms = Text(300)
    price_rmb = _money()
    capacity = Text(300)
    lead_time_days = fields.Integer(validate=validate.Range(min=0, max=3650), allow_none=True)
    visibility = fields.String(validate=validate.OneOf(VISIBILITIES))
    patent = fields.Nested(PatentIn, metadata={"description": "required for kind 'patent'"})
    financial = fields.Nested(FinancialIn, metadata={"description": "required for kind 'financial'"})


class OfferCreateIn(OfferUpdateIn):
    organization_id = Id(required=True, metadata={"description": "an organisation you are a member of"})
    kind = fields.String(required=True, validate=validate.OneOf(OFFER_KINDS))


class NeedUpdateIn(ApiSchema):
    title_zh = Text(300)
    title_en = Text(300)
    description_zh = Text(LONG)
    description_en = Text(LONG)
    tags = TextList()
    field_codes = TextList(max_items=10, item_length=20)
    quantity = fields.Integer(validate=validate.Range(min=1, max=10**9), allow_none=True)
    unit = Text(20)
    budget_min_rmb = _money()
    budget_max_rmb = _money()
    deadline = fields.Date(allow_none=True)
    required_certifications = ChoiceList(REGULATORY_STATUSES)
    min_trl = fields.Integer(validate=validate.Range(min=1, max=9), allow_none=True)
    allow_uncertified = fields.Boolean(allow_none=True, metadata={
        "description": "keep offers without the required certifications in the matches, flagged"})
    term_months = fields.Integer(validate=validate.Range(min=1, max=600), allow_none=True)
    max_rate_pct = fields.Float(validate=PCT, allow_none=True)
    collateral_available = fields.String(validate=validate.OneOf(("yes", "no", "")), allow_none=True)
    urgency = fields.String(validate=validate.OneOf(URGENCIES))
    visibility = fields.String(validate=validate.OneOf(VISIBILITIES))


class NeedCreateIn(NeedUpdateIn):
    organization_id = Id(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(NEED_KINDS))
    draft = fields.Boolean(load_default=False, metadata={"description": "keep as a draft instead of posting"})


# --- query arguments ----------------------------------------------------------------------------------

class OfferListArgs(PageArgs):
    q = Text(200, metadata={"description": "full-text query (published offers, ranked by relevance)"})
    kind = fields.String(validate=validate.OneOf(OFFER_KINDS))
    status = fields.String(validate=validate.OneOf(OFFER_STATUSES),
                           metadata={"description": "drafts etc. only for your own organisations"})
    field = Text(20, metadata={"description": "taxonomy code"})
    organization_id = Id()
    batch = fields.Integer(validate=validate.Range(min=1, max=100000))


class PatentListArgs(PageArgs):
    q = Text(200)
    legal_status = fields.String(validate=validate.OneOf(PATENT_LEGAL_STATUSES))
    curation_stage = fields.String(validate=validate.OneOf(CURATION_STAGES))
    ipc = Text(20, metadata={"description": "IPC class prefix, e.g. A61B"})
    sort = fields.String(load_default="value", validate=validate.OneOf(("value", "newest")))


class NeedListArgs(PageArgs):
    q = Text(200, metadata={"description": "words in the title or description"})
    kind = fields.String(validate=validate.OneOf(NEED_KINDS))
    status = fields.String(validate=validate.OneOf(NEED_STATUSES))
    field = Text(20)
    organization_id = Id()


class OrganizationListArgs(PageArgs):
    q = Text(200)
    kind = fields.String(validate=validate.OneOf(ORG_KINDS))
    verified = fields.Boolean()


# --- output -------------------------------------------------------------------------------------------

class PatentOut(ma.Schema):
    application_number = fields.String(required=True)
    patent_type = fields.String(required=True)
    ipc_classes = fields.List(fields.String(), required=True)
    applicants = fields.List(fields.String(), required=True)
    inventors = fields.List(fields.String(), required=True)
    filing_date = fields.Date(allow_none=True)
    grant_date = fields.Date(allow_none=True)
    legal_status = fields.String(required=True)
    claims_count = fields.Integer(allow_none=True)
    citations = fields.Integer(allow_none=True)
    family_size = fields.Integer(allow_none=True)
    transfer_willingness = fields.Integer(allow_none=True)
    market_prospect = fields.Integer(allow_none=True)
    transfer_modes = fields.List(fields.String(), required=True)
    value_score = fields.Float(allow_none=True)
    curation_stage = fields.String(required=True)


class FinancialOut(ma.Schema):
    product_type = fields.String(required=True)
    amount_min_rmb = fields.Float(allow_none=True)
    amount_max_rmb = fields.Float(allow_none=True)
    rate_min_pct = fields.Float(allow_none=True)
    rate_max_pct = fields.Float(allow_none=True)
    term_months_min = fields.Integer(allow_none=True)
    term_months_max = fields.Integer(allow_none=True)
    guarantee = fields.String(allow_none=True)
    guarantee_fee_pct = fields.Float(allow_none=True)
    eligibility_zh = fields.String(allow_none=True)
    eligibility_en = fields.String(allow_none=True)
    invest_fields = fields.List(fields.String(), allow_none=True)
    invest_stages = fields.List(fields.String(), allow_none=True)
    ticket_min_rmb = fields.Float(allow_none=True)
    ticket_max_rmb = fields.Float(allow_none=True)
    collateral_required = fields.Boolean(allow_none=True)
    park_only = fields.Boolean(allow_none=True)
    eligible_sizes = fields.List(fields.String(), allow_none=True)
    eligible_stages = fields.List(fields.String(), allow_none=True)
    eligible_fields = fields.List(fields.String(), allow_none=True)


class OfferOut(ma.Schema):
    """An offer as a list item: what the public catalogue shows (title, summary, badges)."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True)
    visibility = fields.String(required=True)
    title_zh = fields.String(required=True)
    title_en = fields.String(required=True)
    summary_zh = fields.String(required=True)
    summary_en = fields.String(required=True)
    tags = fields.List(fields.String(), required=True)
    field_codes = fields.List(fields.String(), required=True)
    trl = fields.Integer(allow_none=True)
    organization = fields.Nested(OrganizationRef, required=True)
    batch_number = fields.Integer(allow_none=True)
    published_at = UtcDateTime(allow_none=True)
    updated_at = UtcDateTime(allow_none=True)
    url = fields.String(required=True, metadata={"description": "the offer's page on the site"})
    details_visible = fields.Boolean(required=True, metadata={
        "description": "false for teaser or confidential items whose details you may not see; "
                       "the detail fields are then null"})


class OfferDetailOut(OfferOut):
    description_zh = fields.String(allow_none=True)
    description_en = fields.String(allow_none=True)
    problem_zh = fields.String(allow_none=True)
    problem_en = fields.String(allow_none=True)
    advantage_zh = fields.String(allow_none=True)
    advantage_en = fields.String(allow_none=True)
    scenarios_zh = fields.String(allow_none=True)
    scenarios_en = fields.String(allow_none=True)
    regulatory_statuses = fields.List(fields.String(), allow_none=True)
    partnership_modes = fields.List(fields.String(), allow_none=True)
    ip_status = fields.String(allow_none=True)
    price_terms = fields.String(allow_none=True)
    price_rmb = fields.Float(allow_none=True)
    capacity = fields.String(allow_none=True)
    lead_time_days = fields.Integer(allow_none=True)
    review_note = fields.String(allow_none=True, metadata={"description": "operator's note, for the owner"})
    patent = fields.Nested(PatentOut, allow_none=True)
    financial = fields.Nested(FinancialOut, allow_none=True)


class NeedOut(ma.Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True)
    visibility = fields.String(required=True)
    urgency = fields.String(required=True)
    title_zh = fields.String(required=True)
    title_en = fields.String(required=True)
    tags = fields.List(fields.String(), required=True)
    field_codes = fields.List(fields.String(), required=True)
    organization = fields.Nested(OrganizationRef, required=True)
    deadline = fields.Date(allow_none=True)
    created_at = UtcDateTime(allow_none=True)
    url = fields.String(required=True)
    details_visible = fields.Boolean(required=True)


class NeedDetailOut(NeedOut):
    description_zh = fields.String(allow_none=True)
    description_en = fields.String(allow_none=True)
    quantity = fields.Integer(allow_none=True)
    unit = fields.String(allow_none=True)
    budget_min_rmb = fields.Float(allow_none=True)
    budget_max_rmb = fields.Float(allow_none=True)
    required_certifications = fields.List(fields.String(), allow_none=True)
    min_trl = fields.Integer(allow_none=True)
    close_reason = fields.String(allow_none=True)
    term_months = fields.Integer(allow_none=True)
    max_rate_pct = fields.Float(allow_none=True)
    collateral_available = fields.Boolean(allow_none=True)
    allow_uncertified = fields.Boolean(allow_none=True)


class OrganizationOut(OrganizationRef):
    short_name = fields.String(required=True)
    sub_park = fields.String(allow_none=True)
    size_class = fields.String(allow_none=True)
    registered_in_park = fields.Boolean(required=True)
    verified = fields.Boolean(required=True)
    description_zh = fields.String(required=True)
    description_en = fields.String(required=True)
    website = fields.String(required=True)
    field_codes = fields.List(fields.String(), required=True, metadata={"description": "fields of work (taxonomy)"})
    mediated_only = fields.Boolean(required=True)
    growth_stage = fields.String(allow_none=True)
    group_parent_id = fields.Integer(allow_none=True)
    url = fields.String(required=True)


class ReasonOut(ma.Schema):
    kind = fields.String(allow_none=True)
    text = fields.String(required=True, metadata={"description": "in the requested language"})


class MatchOut(ma.Schema):
    need_id = fields.Integer(required=True)
    offer = fields.Nested(OfferOut, required=True)
    rank = fields.Integer(required=True)
    score = fields.Float(required=True)
    parts = fields.Dict(keys=fields.String(), values=fields.Float(), required=True,
                        metadata={"description": "text, graph, rules… contributions to the score"})
    reasons = fields.List(fields.Nested(ReasonOut), required=True)
    strength = fields.Integer(allow_none=True, metadata={
        "description": "calibrated 0-100: the same figure means the same across needs"})
    band = fields.String(allow_none=True, metadata={"description": "strong, good or possible"})
    flags = fields.List(fields.String(), required=True, metadata={"description": "e.g. not_certified"})
    similar_offer_ids = fields.List(fields.Integer(), required=True, metadata={
        "description": "near-duplicate offers folded into this one"})
    decision = fields.String(allow_none=True, metadata={"description": "your organisation's answer, if any"})
    computed_at = UtcDateTime(allow_none=True)


class MatchListOut(ma.Schema):
    items = fields.List(fields.Nested(MatchOut), required=True)


class MatchDecisionIn(ApiSchema):
    reason = Text(2000, load_default="")


class MatchDecisionOut(ma.Schema):
    need_id = fields.Integer(required=True)
    offer_id = fields.Integer(required=True)
    decision = fields.String(required=True)


class NeedCloseIn(ApiSchema):
    reason = Text(2000, load_default="")


OfferPage = page_of(OfferOut, "OfferPage")
PatentPage = page_of(OfferDetailOut, "PatentPage")
NeedPage = page_of(NeedOut, "NeedPage")
OrganizationPage = page_of(OrganizationOut, "OrganizationPage")

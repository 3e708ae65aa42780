"""Schemas of open challenges: challenges (public fields), questions, proposals (owner-scoped)."""
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
from marketplace.models.challenges import ANSWER_VISIBILITIES, CHALLENGE_STATUSES, PROPOSAL_STATUSES
from marketplace.services.challenges.common import CHALLENGER_KINDS, SOLVER_KINDS
from marketplace.vocabulary import TIMEZONE_LABELS

MONEY = validate.Range(min=0, max=1e13)


def _money(**kw):
    return fields.Float(validate=MONEY, allow_none=True, **kw)


class CriterionIn(ApiSchema):
    name_zh = Text(200, load_default="")
    name_en = Text(200, load_default="")
    weight = fields.Integer(required=True, validate=validate.Range(min=1, max=100))


class MilestonePlanItem(ApiSchema):
    title = Text(300, required=True)
    months = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=120))


class ChallengeWriteIn(ApiSchema):
    title_zh = Text(300)
    title_en = Text(300)
    summary_zh = Text(2000)
    summary_en = Text(2000)
    problem_zh = Text(20000)
    problem_en = Text(20000)
    requirements_zh = Text(20000)
    requirements_en = Text(20000)
    ip_terms_zh = Text(5000)
    ip_terms_en = Text(5000)
    confidential_zh = Text(20000, metadata={"description": "shown only after an approved access request and the NDA"})
    confidential_en = Text(20000)
    nda_text_zh = Text(20000)
    nda_text_en = Text(20000)
    award_min_rmb = _money()
    award_max_rmb = _money()
    award_note = Text(2000)
    eligible_kinds = ChoiceList(SOLVER_KINDS, metadata={"description": "kinds of organisation that may lead"})
    consortium_allowed = fields.Boolean()
    deadline = fields.DateTime(metadata={"description": "submission deadline; without an offset it is read in "
                                                        "`timezone`"})
    timezone = fields.String(validate=validate.OneOf(list(TIMEZONE_LABELS)))
    milestone_plan = fields.List(fields.Nested(MilestonePlanItem), validate=validate.Length(max=12))
    criteria = fields.List(fields.Nested(CriterionIn), validate=validate.Length(max=8))
    field_codes = TextList(10, 40)


class ChallengeCreateIn(ChallengeWriteIn):
    organization_id = Id(required=True)
    need_id = Id(metadata={"description": "publish a need of that organisation as a challenge"})
    deadline = fields.DateTime(required=True, metadata={"description": "submission deadline; without an offset "
                                                                       "it is read in `timezone`"})


class ChallengeUpdateIn(ChallengeWriteIn):
    pass


class CriterionOut(ma.Schema):
    id = fields.Integer(required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)
    weight = fields.Integer(required=True)


class ChallengeSummaryOut(ma.Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(CHALLENGE_STATUSES))
    status_label = fields.String(required=True)
    title_zh = fields.String(required=True)
    title_en = fields.String(required=True)
    summary_zh = fields.String(required=True)
    summary_en = fields.String(required=True)
    organization = fields.Nested(OrganizationRef, required=True)
    award_min_rmb = fields.Float(allow_none=True)
    award_max_rmb = fields.Float(allow_none=True)
    deadline = UtcDateTime(required=True)
    timezone = fields.String(required=True)
    accepts_submissions = fields.Boolean(required=True)
    field_codes = fields.List(fields.String(), required=True)


class ChallengeDetailOut(ChallengeSummaryOut):
    version = fields.Integer(required=True)
    problem_zh = fields.String(required=True)
    problem_en = fields.String(required=True)
    requirements_zh = fields.String(required=True)
    requirements_en = fields.String(required=True)
    ip_terms_zh = fields.String(required=True)
    ip_terms_en = fields.String(required=True)
    award_note = fields.String(required=True)
    eligible_kinds = fields.List(fields.String(), required=True)
    consortium_allowed = fields.Boolean(required=True)
    milestone_plan = fields.List(fields.Dict(), required=True)
    criteria = fields.List(fields.Nested(CriterionOut), required=True)
    clarification_number = fields.Integer(required=True)
    has_confidential_part = fields.Boolean(required=True)
    confidential_zh = fields.String(allow_none=True, metadata={"description": "null unless shown to you"})
    confidential_en = fields.String(allow_none=True)
    need_id = fields.Integer(allow_none=True)
    published_at = UtcDateTime(allow_none=True)
    review_reason = fields.String(allow_none=True, metadata={"description": "the operator's reason, for the "
                                                                              "challenger only"})


ChallengePage = page_of(ChallengeSummaryOut, "ChallengePage")


class ChallengeListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(("open", "closed", "awarded")))
    field = Text(40)
    kind = fields.String(validate=validate.OneOf(CHALLENGER_KINDS),
                         metadata={"description": "the challenger's kind of organisation"})
    award_min = fields.Float(validate=MONEY)
    award_max = fields.Float(validate=MONEY)


class QuestionIn(ApiSchema):
    text = Text(2000, required=True)


class AnswerIn(ApiSchema):
    answer = Text(5000, required=True)
    visibility = fields.String(required=True, validate=validate.OneOf(ANSWER_VISIBILITIES))


class QuestionOut(ma.Schema):
    id = fields.Integer(required=True)
    text = fields.String(required=True)
    answer = fields.String(required=True)
    answer_visibility = fields.String(allow_none=True)
    asked_by_you = fields.Boolean(required=True)
    created_at = UtcDateTime(required=True)
    answered_at = UtcDateTime(allow_none=True)


class QuestionListOut(ma.Schema):
    items = fields.List(fields.Nested(QuestionOut), required=True)


class ProposalWriteIn(ApiSchema):
    title = Text(300)
    approach = Text(20000)
    team = Text(5000)
    budget_rmb = _money()
    milestones = fields.List(fields.Nested(MilestonePlanItem), validate=validate.Length(max=12))
    member_ids = fields.List(Id(), validate=validate.Length(max=10),
                             metadata={"description": "the other organisations of a consortium"})


class ProposalCreateIn(ProposalWriteIn):
    lead_organization_id = Id(required=True)


class ProposalOut(ma.Schema):
    id = fields.Integer(required=True)
    challenge_id = fields.Integer(required=True)
    version = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(PROPOSAL_STATUSES))
    status_label = fields.String(required=True)
    lead_organization = fields.Nested(OrganizationRef, required=True)
    members = fields.List(fields.Nested(OrganizationRef), required=True)
    title = fields.String(required=True)
    approach = fields.String(required=True)
    team = fields.String(required=True)
    budget_rmb = fields.Float(allow_none=True)
    milestones = fields.List(fields.Dict(), required=True)
    feedback = fields.String(required=True)
    submitted_at = UtcDateTime(allow_none=True)


class ProposalListOut(ma.Schema):
    items = fields.List(fields.Nested(ProposalOut), required=True)

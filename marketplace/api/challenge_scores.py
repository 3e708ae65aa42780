"""/api/v1/challenges/{id}/evaluation: the evaluation of a challenge's proposals, scoped to its panel.

A panel member reads their own declarations and scores and sends new ones; the challenger's members and
operators read every score and the ranking. Anybody else, solvers included, gets 404 (the evaluation's
existence is not revealed).
"""
from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

from marketplace.api import auth
from marketplace.api.common import api_blueprint
from marketplace.api.schemas.common import ApiSchema, Id, Text, UtcDateTime
from marketplace.models.challenges import SCORE_MAX, SCORE_MIN
from marketplace.services.challenges import evaluation
from marketplace.services.errors import ValidationFailed
from marketplace.services.unit_of_work import unit_of_work

bp = api_blueprint("api_challenge_scores", __name__, url_prefix="/api/v1/challenges",
                   description="Evaluation of a challenge's proposals: conflict declarations and scores (its panel), "
                               "the ranking (its challenger).")


class ScoreIn(ApiSchema):
    criterion_id = Id(required=True)
    score = fields.Integer(required=True, validate=validate.Range(min=SCORE_MIN, max=SCORE_MAX))
    comment = Text(evaluation.COMMENT_LIMIT, load_default="")


class ScoresIn(ApiSchema):
    scores = fields.List(fields.Nested(ScoreIn), required=True, validate=validate.Length(min=1, max=50),
                         metadata={"description": "one score per criterion of the challenge, all at once"})


class ConflictIn(ApiSchema):
    has_conflict = fields.Boolean(required=True)
    note = Text(evaluation.COMMENT_LIMIT, load_default="",
                metadata={"description": "what the conflict is (required when there is one)"})


class ScoreOut(ma.Schema):
    panel_member_id = fields.Integer(required=True)
    proposal_id = fields.Integer(required=True)
    criterion_id = fields.Integer(required=True)
    score = fields.Integer(required=True)
    comment = fields.String(required=True)
    created_at = UtcDateTime(required=True)


class DeclarationOut(ma.Schema):
    proposal_id = fields.Integer(required=True)
    has_conflict = fields.Boolean(required=True)
    note = fields.String(required=True)


class ResultOut(ma.Schema):
    proposal_id = fields.Integer(required=True)
    rank = fields.Integer(allow_none=True)
    weighted_mean = fields.Float(allow_none=True, metadata={"description": "0-10, over the evaluators who scored"})
    lowest = fields.Float(allow_none=True)
    highest = fields.Float(allow_none=True)
    std_deviation = fields.Float(allow_none=True)
    evaluators = fields.Integer(required=True)
    conflicts = fields.Integer(required=True)


class EvaluationOut(ma.Schema):
    challenge_id = fields.Integer(required=True)
    role = fields.String(required=True, metadata={"description": "`panel` (your own scores) or `challenger`"})
    criteria = fields.List(fields.Dict(), required=True)
    declarations = fields.List(fields.Nested(DeclarationOut), required=True)
    scores = fields.List(fields.Nested(ScoreOut), required=True)
    results = fields.List(fields.Nested(ResultOut), required=True,
                          metadata={"description": "the ranking (challenger only; empty for the panel)"})


def _score_body(row) -> dict:
    return {k: getattr(row, k) for k in ("panel_member_id", "proposal_id", "criterion_id", "score", "comment",
                                         "created_at")}


def _result_body(result) -> dict:
    return {"proposal_id": result.proposal.id, "rank": result.rank, "weighted_mean": result.mean,
            "lowest": result.low, "highest": result.high, "std_deviation": result.spread,
            "evaluators": result.scored_by, "conflicts": result.conflicts}


def _body(user, challenge) -> dict:
    challenger = evaluation.is_challenger(user, challenge)
    seat = evaluation.panel_member(user, challenge)
    seats = None if challenger else ({seat.id} if seat else set())
    declarations, scores = evaluation.declarations_and_scores(challenge, seats)
    return {"challenge_id": challenge.id, "role": "challenger" if challenger else "panel",
            "criteria": [{"id": c.id, "name_zh": c.name_zh, "name_en": c.name_en, "weight": c.weight}
                         for c in challenge.criteria],
            "declarations": [{"proposal_id": d.proposal_id, "has_conflict": d.has_conflict, "note": d.note}
                             for d in declarations],
            "scores": [_score_body(s) for s in scores],
            "results": [_result_body(r) for r in evaluation.results(challenge)] if challenger else []}


@bp.route("/<int:challenge_id>/evaluation", methods=["GET"])
@bp.response(200, EvaluationOut)
def get_evaluation(challenge_id):
    """The evaluation as you may see it: a panel member their own declarations and scores, the challenger and
    operators every score and the ranking."""
    user = auth.require_caller()
    return _body(user, evaluation.get_challenge(user, challenge_id))


@bp.route("/<int:challenge_id>/evaluation/proposals/<int:proposal_id>/conflict", methods=["PUT"])
@bp.arguments(ConflictIn)
@bp.response(200, DeclarationOut)
@auth.write_access
def declare_conflict(data, challenge_id, proposal_id):
    """Declare whether you (a panel member) have a conflict of interest with a proposal; a conflict forbids
    scoring it and cannot be withdrawn."""
    user = auth.require_caller()
    with unit_of_work():
        challenge = evaluation.get_challenge(user, challenge_id)
        row = evaluation.declare(user, challenge, evaluation.get_proposal(challenge, proposal_id),
                                 data["has_conflict"], data["note"])
        body = {"proposal_id": row.proposal_id, "has_conflict": row.has_conflict, "note": row.note}
    return body


@bp.route("/<int:challenge_id>/evaluation/proposals/<int:proposal_id>/scores", methods=["PUT"])
@bp.arguments(ScoresIn)
@bp.response(200, ScoreOut(many=True))
@auth.write_access
def put_scores(data, challenge_id, proposal_id):
    """Score a proposal on every criterion at once (after declaring no conflict). Scores are locked once sent:
    the same scores again answer as the first time, different ones 409."""
    user = auth.require_caller()
    entries = {}
    for item in data["scores"]:
        if item["criterion_id"] in entries:
            raise ValidationFailed(_l("Score each criterion once."))
        entries[item["criterion_id"]] = (item["score"], item["comment"])
    with unit_of_work():
        challenge = evaluation.get_challenge(user, challenge_id)
        rows = evaluation.score(user, challenge, evaluation.get_proposal(challenge, proposal_id), entries)
        body = [_score_body(r) for r in rows]
    return body

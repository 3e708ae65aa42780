"""The public JSON API under /api/v1: OpenAPI document, browsable docs, bearer tokens, problem+json errors.

Requests are validated by the same marshmallow schemas that generate ``/api/v1/openapi.json``.
"""
from __future__ import annotations

import http

import marshmallow as ma
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow import fields

from marketplace.api.problems import PROBLEM_MIME

API_PREFIX = "/api/v1"
WRITE_METHODS = ("post", "put", "patch", "delete")
IDEMPOTENCY_METHODS = ("post", "put", "patch")
IDEMPOTENCY_KEY_PARAMETER = {
    "name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string",
                                                                          "pattern": "^[A-Za-z0-9_-]{8,80}$"},
    "description": "A key you choose for this change (a UUID). Sent again with the same token, the change is "
                   "not made twice: the first response is returned, marked `Idempotent-Replayed: true`, or "
                   "409 while the first request is still running."}


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details; ``errors`` names the fields that failed validation."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    instance = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.String())


class TechBridgeApi(Api):
    """flask-smorest with problem+json errors rendered by the app's own error handlers (so HTML pages keep theirs)."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        """The app's handlers in ``views/errors.py`` answer /api/ paths with problem+json."""

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_MIME)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (problem details in the requested language)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MIME)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def api_settings(app) -> None:
    """flask-smorest settings (the document and docs URLs) unless the config already names them."""
    defaults = {
        "API_TITLE": "TechBridge API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": API_PREFIX,
        "OPENAPI_JSON_PATH": "openapi.json",
        "API_SPEC_OPTIONS": {
            "info": {"description": (
                "Offers, needs, patents, organisations, matches, introductions, events and open challenges of "
                "the TechBridge marketplace. Reads work without a token and show what a visitor sees; send a personal access "
                "token (account page → API tokens) as `Authorization: Bearer <token>` to see what your account "
                "may see and, with the write scope, to change data. Errors are `application/problem+json` in "
                "the language asked for with `Accept-Language` (zh or en; zh by default).")},
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                                              "description": "personal access token"}},
                           "parameters": {"IdempotencyKey": IDEMPOTENCY_KEY_PARAMETER}},
        },
    }
    for key, value in defaults.items():
        app.config.setdefault(key, value)


def _document_errors(api: TechBridgeApi) -> None:
    """Name the usual failures on each operation, and say which operations need a token."""
    for path, operations in api.spec._paths.items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = operation.setdefault("responses", {})
            needs_token = method in WRITE_METHODS or path.startswith((f"{API_PREFIX}/introductions",
                                                                       f"{API_PREFIX}/me")) \
                or path.endswith("/members")
            wanted = ["TOO_MANY_REQUESTS"]
            if "{" in path:
                wanted.append("NOT_FOUND")
            if needs_token:
                wanted += ["UNAUTHORIZED", "FORBIDDEN"]
            if method in WRITE_METHODS:
                wanted += ["CONFLICT", "UNPROCESSABLE_ENTITY"]
            for name in wanted:
                code = str(http.HTTPStatus[name].value)
                responses.setdefault(code, api.spec.components.get_ref("response", name))
            operation["security"] = [{"bearerAuth": []}] if needs_token else [{}, {"bearerAuth": []}]
            if method in IDEMPOTENCY_METHODS:
                operation.setdefault("parameters", []).append({"$ref": "#/components/parameters/IdempotencyKey"})


def init_api(app) -> TechBridgeApi:
    """Bind the API to the app: blueprints, docs, auth hook, rate limit, no CSRF (tokens, not cookies)."""
    from marketplace.api import (activity, catalogue, challenge_scores, challenges, docking, docs, liaison, needs,
                                 organizations, policy)

    api_settings(app)
    api = TechBridgeApi(app)
    blueprints = (catalogue.bp, catalogue.patents_bp, needs.bp, organizations.bp, organizations.me_bp,
                  activity.intros_bp, docking.bp, activity.events_bp, policy.measures_bp, policy.filings_bp,
                  liaison.bp, challenges.bp, challenge_scores.bp)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    _document_errors(api)
    app.register_blueprint(docs.bp)
    app.extensions["techbridge_api"] = api
    return api

"""Small helpers shared by the API resources."""
from __future__ import annotations

from flask import after_this_request, current_app, request
from flask_smorest import Blueprint

from marketplace.api.schemas.common import page_body
from marketplace.extensions import csrf, limiter
from marketplace.queries.paging import Page
from marketplace.services import versions
from marketplace.services.unit_of_work import unit_of_work


def api_blueprint(name: str, import_name: str, url_prefix: str, description: str) -> Blueprint:
    """A resource blueprint: bearer-token caller, rate limit per token, no CSRF (cookies are not used).

    Set up once per process, when the module is imported; apps created later share it.
    """
    from marketplace.api import auth

    blueprint = Blueprint(name, import_name, url_prefix=url_prefix, description=description)
    blueprint.before_request(auth.load_caller)
    limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=auth.rate_limit_key)(blueprint)
    csrf.exempt(blueprint)
    return blueprint


def page_envelope(found: Page, convert) -> dict:
    """A page of rows from the queries, converted and wrapped in the list envelope."""
    return page_body([convert(row) for row in found.items], found.page, found.per_page, found.total)


def flatten_offer_input(data: dict) -> dict:
    """The services read one flat mapping, as from a form; nested patent / financial objects are spread out."""
    flat = {k: v for k, v in data.items() if k not in ("patent", "financial")}
    for key in ("patent", "financial"):
        flat.update(data.get(key) or {})
    return flat


IF_MATCH_DOC = {"parameters": [{
    "in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"},
    "description": "the ETag (version) you last read; if the record changed since, the update is refused with "
                   "409 and nothing is written"}]}


def if_match() -> str | None:
    """The version the caller last read (``If-Match``), or None: a stale one makes the update answer 409."""
    return request.headers.get("If-Match")


def send_etag(row) -> None:
    """Answer with the record's version as ``ETag``, for the caller's next ``If-Match``."""
    tag = versions.etag(row)

    @after_this_request
    def _add_etag(response):
        response.headers["ETag"] = tag
        return response


def versioned_update(change, present) -> dict:
    """Update a versioned record: ``change(expected_version)`` runs with the caller's ``If-Match`` in one unit
    of work and returns the row; the answer is ``present(row)`` with the new version as ``ETag``.

    A stale ``If-Match`` makes the service raise ``versions.StaleEdit``, which the API answers as a 409 problem
    with nothing written.
    """
    with unit_of_work():
        row = change(if_match())
        body = present(row)
        send_etag(row)
    return body

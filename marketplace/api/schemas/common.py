"""Shared pieces: pagination, bounded ids and texts, list envelopes."""
from __future__ import annotations

from datetime import timezone

import marshmallow as ma
from marshmallow import fields, validate

from marketplace.services.cleaning import CONTROL_CHARS, drop_lone_surrogates

MAX_ID = 2**31 - 1  # database integer keys; larger numbers cannot name a record
MAX_PAGE = 10_000
MAX_PER_PAGE = 100  # the API's hard bound; API_MAX_PER_PAGE in the config may lower it


class ApiSchema(ma.Schema):
    """Unknown input keys are refused, so typos do not pass silently."""

    class Meta:
        unknown = ma.RAISE
        ordered = True


def Id(**kw):
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kw)


class CleanString(fields.String):
    """Text with control characters (NUL included, which PostgreSQL refuses) and lone surrogates dropped, as the
    forms do."""

    def _deserialize(self, value, attr, data, **kwargs):
        return drop_lone_surrogates(CONTROL_CHARS.sub("", super()._deserialize(value, attr, data, **kwargs)))


def Text(max_length: int, **kw):
    return CleanString(validate=validate.Length(max=max_length), **kw)


def TextList(max_items: int = 30, item_length: int = 100, **kw):
    return fields.List(CleanString(validate=validate.Length(max=item_length)),
                       validate=validate.Length(max=max_items), **kw)


def ChoiceList(choices, **kw):
    return fields.List(fields.String(validate=validate.OneOf(choices)), validate=validate.Length(max=len(choices)),
                       **kw)


class UtcDateTime(fields.DateTime):
    """RFC 3339 with an offset: SQLite hands back naive UTC datetimes, which are marked UTC on the way out."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


class PageArgs(ApiSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE),
                          metadata={"description": "1-based page number"})
    # Left out, the handler uses the site's PER_PAGE setting (marketplace.queries.paging.api_per_page).
    per_page = fields.Integer(validate=validate.Range(min=1, max=MAX_PER_PAGE),
                              metadata={"description": f"items per page (at most {MAX_PER_PAGE}; the site's page "
                                                       "size when left out)"})


class PageMeta(ma.Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)
    pages = fields.Integer(required=True)


def page_of(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A list envelope ``{"items": [...], "page", "per_page", "total", "pages"}`` for ``item_schema``."""
    return type(name, (PageMeta,), {"items": fields.List(fields.Nested(item_schema), required=True)})


def page_body(items: list, page: int, per_page: int, total: int) -> dict:
    return {"items": items, "page": page, "per_page": per_page, "total": total,
            "pages": (total + per_page - 1) // per_page}


class ActionReasonIn(ApiSchema):
    reason = Text(2000, load_default="")


class OrganizationRef(ma.Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)

"""Small helpers shared by the API resources."""
from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from sqlalchemy import func, select

from marketplace.api.schemas.common import MAX_ID, page_body
from marketplace.extensions import csrf, db, limiter
from marketplace.services.errors import NotFound


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


def get_row(model, row_id: int, message=None):
    """The row with this id, or NotFound (ids beyond the key range cannot exist)."""
    row = db.session.get(model, row_id) if 0 < row_id <= MAX_ID else None
    if row is None:
        raise NotFound(message or _l("This record does not exist or is not visible to you."))
    return row


def paginate(query, page: int, per_page: int, convert) -> dict:
    """Run ``query`` (a select of one entity) for one page and wrap the converted rows in the list envelope."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique()
    return page_body([convert(row) for row in rows], page, per_page, total)


def flatten_offer_input(data: dict) -> dict:
    """The services read one flat mapping, as from a form; nested patent / financial objects are spread out."""
    flat = {k: v for k, v in data.items() if k not in ("patent", "financial")}
    for key in ("patent", "financial"):
        flat.update(data.get(key) or {})
    return flat

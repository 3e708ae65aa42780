"""Pages of rows, and the page-size settings read from the app config in one place."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from marketplace.extensions import db

MAX_ID = 2**31 - 1  # database integer keys; larger numbers cannot name a record (and overflow PostgreSQL)
API_MAX_PER_PAGE = 100  # the API's documented bound when the config does not set API_MAX_PER_PAGE


@dataclass
class Page:
    """One page of rows with the numbers a pager needs."""

    items: list[Any]
    total: int
    page: int
    per_page: int
    extra: dict = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return (self.total + self.per_page - 1) // self.per_page if self.per_page else 0


def site_per_page() -> int:
    """Rows per page on the site's lists (``PER_PAGE``); called by views, passed down as a number."""
    return int(current_app.config["PER_PAGE"])


def api_per_page(requested: int | None) -> int:
    """Rows per page for an API list: the caller's ``per_page`` or ``PER_PAGE``, at most the API maximum."""
    limit = int(current_app.config.get("API_MAX_PER_PAGE") or API_MAX_PER_PAGE)
    return max(1, min(requested or site_per_page(), limit))


def valid_id(row_id) -> bool:
    """True when ``row_id`` can be a database key (callers may pass anything a URL holds)."""
    return isinstance(row_id, int) and 0 < row_id <= MAX_ID


def fetch_page(query, page: int, per_page: int, *, unique: bool = False) -> Page:
    """Run ``query`` (an ordered select of one entity) for one page, with the total count."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    rows = db.session.scalars(query.limit(per_page).offset((max(page, 1) - 1) * per_page))
    return Page(list(rows.unique() if unique else rows), total, page, per_page)


def slice_page(rows: list, page: int, per_page: int) -> Page:
    """A page cut from a list already filtered in Python."""
    start = (max(page, 1) - 1) * per_page
    return Page(rows[start:start + per_page], len(rows), page, per_page)

"""Reads of events and event series."""
from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l

from marketplace.extensions import db
from marketplace.models import Event, EventSeries
from marketplace.queries.paging import Page, slice_page, valid_id
from marketplace.services import events as event_service  # the events' own visibility rule
from marketplace.services.errors import NotFound


def get_event(viewer, event_id: int) -> Event:
    """The event if ``viewer`` may see it, else NotFound."""
    event = db.session.get(Event, event_id) if valid_id(event_id) else None
    return event_service.require_view(viewer, event)


def get_series(series_id: int) -> EventSeries:
    """The event series (series pages are public), or NotFound."""
    series = db.session.get(EventSeries, series_id) if valid_id(series_id) else None
    if series is None:
        raise NotFound(_l("This record does not exist or is not visible to you."))
    return series


def list_events(viewer, *, kind: str | None = None, status: str | None = None, upcoming: bool = False,
                page: int = 1, per_page: int) -> Page:
    """Events ``viewer`` may see (published ones, and organisers' own drafts), latest first, filtered."""
    rows = event_service.visible_events(viewer)
    if kind:
        rows = [e for e in rows if e.kind == kind]
    if status:
        rows = [e for e in rows if e.status == status]
    if upcoming:
        # Compared in Python: SQLite keeps naive UTC times, the service knows how to read them.
        now = datetime.now(UTC)
        rows = [e for e in rows if event_service.aware(e.ends_at) >= now]
    return slice_page(rows, page, per_page)

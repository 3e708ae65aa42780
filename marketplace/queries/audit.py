"""Reads of the audit log for the operators' pages (the filter language lives in ``services.audit``)."""
from __future__ import annotations

from marketplace.extensions import db
from marketplace.queries.paging import Page
from marketplace.services import audit


def audit_entries(filters: audit.AuditFilter, page: int, per_page: int, *, tz_name: str) -> Page:
    """One page of the entries matching ``filters``, newest first, actors loaded."""
    entries, total = audit.list_entries(db.session, filters, page, per_page, tz_name=tz_name)
    return Page(entries, total, page, per_page)


def audit_csv_rows(filters: audit.AuditFilter, *, tz_name: str):
    """The matching entries as CSV lines (header first), newest first, up to the export limit."""
    return audit.csv_rows(db.session, filters, tz_name=tz_name)

"""The audit log: who did what to which object, and from where (issue 7).

Services call ``record`` next to the change they make, in the same transaction, so an entry exists exactly when
the change was committed. Entries are never edited. Operators read them on ``/operator/audit``
(``list_entries``) and export them as CSV (``csv_rows``).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from marketplace.models import User
from marketplace.models.security import AUDIT_ACTIONS, AuditEntry
from marketplace.services.cleaning import parse_date, parse_id

ACTION_LABELS = {
    "verification": _l("Verification decision"),
    "stage_change": _l("Introduction stage change"),
    "confidential_view": _l("Access to confidential details"),
    "access_decision": _l("Access request decision"),
    "role_change": _l("Role change"),
    "token": _l("Access token"),
    "upload": _l("Upload"),
    "docking": _l("Introduction request or reported message"),
    "organization": _l("Organisation profile, members or invitations"),
}
OBJECT_TYPE_LABELS = {
    "offer": _l("Offer"), "need": _l("Need"), "introduction": _l("Introduction"), "batch": _l("Batch"),
    "user": _l("User"), "organization": _l("Organisation"), "api_token": _l("Access token"),
    "challenge": _l("Challenge"),
}
EXPORT_LIMIT = 50_000
CSV_COLUMNS = ("id", "at_utc", "action", "actor_id", "actor_email", "object_type", "object_id", "organization_id",
               "summary", "remote_addr", "details")


def record(session, *, actor_id: int | None, action: str, object_type: str, object_id: int | None,
           organization_id: int | None = None, summary: str, details: dict | None = None,
           remote_addr: str = "") -> AuditEntry:
    """Add one audit entry to ``session`` and flush; the caller's unit of work commits it (or rolls it back with
    the change it describes). ``action`` must be one of ``AUDIT_ACTIONS``."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(actor_id=actor_id, action=action, object_type=(object_type or "")[:30], object_id=object_id,
                       organization_id=organization_id, summary=(summary or "")[:300], details=dict(details or {}),
                       remote_addr=(remote_addr or "")[:64], at=datetime.now(UTC))
    session.add(entry)
    session.flush()
    return entry


def actor_of(user) -> int | None:
    """The id of an authenticated user, else None (jobs and anonymous visitors)."""
    return getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None


# --- reading -------------------------------------------------------------------------------------------

@dataclass
class AuditFilter:
    """What the operator asked for; empty fields do not filter."""

    action: str = ""
    actor_email: str = ""
    object_type: str = ""
    object_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    errors: dict = field(default_factory=dict)

    def as_args(self) -> dict:
        """The filter as query-string arguments (for pagination and the CSV link)."""
        args = {"action": self.action, "actor": self.actor_email, "object_type": self.object_type,
                "object_id": self.object_id, "date_from": self.date_from, "date_to": self.date_to}
        return {k: str(v) for k, v in args.items() if v not in (None, "")}


def parse_filter(args: dict) -> AuditFilter:
    """Build a filter from query-string values; unusable values are dropped and reported in ``errors``."""
    f = AuditFilter()
    action = (args.get("action") or "").strip()
    if action in AUDIT_ACTIONS:
        f.action = action
    elif action:
        f.errors["action"] = _l("Unknown action.")
    f.actor_email = (args.get("actor") or "").strip().lower()[:200]
    f.object_type = (args.get("object_type") or "").strip()[:30]
    object_id = (args.get("object_id") or "").strip()
    if object_id:
        if parse_id(object_id) is not None:
            f.object_id = parse_id(object_id)
        else:
            f.errors["object_id"] = _l("Enter a whole number.")
    for key in ("date_from", "date_to"):
        value = (args.get(key) or "").strip()
        if value:
            setattr(f, key, parse_date(value))
            if getattr(f, key) is None:
                f.errors[key] = _l("Enter a date as YYYY-MM-DD.")
    if f.date_from and f.date_to and f.date_from > f.date_to:
        f.errors["date_to"] = _l("The end date is before the start date.")
        f.date_to = None
    return f


def _day_start(day: date, tz_name: str) -> datetime:
    """Midnight of ``day`` in the operator's time zone, as UTC (stored times are UTC)."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz_name)).astimezone(UTC)


def query(f: AuditFilter, tz_name: str = "UTC"):
    """SELECT of the entries matching ``f``, newest first."""
    stmt = select(AuditEntry)
    if f.action:
        stmt = stmt.where(AuditEntry.action == f.action)
    if f.actor_email:
        pattern = "%" + f.actor_email.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(AuditEntry.actor_id.in_(
            select(User.id).where(func.lower(User.email).like(pattern, escape="\\"))))
    if f.object_type:
        stmt = stmt.where(AuditEntry.object_type == f.object_type)
    if f.object_id is not None:
        stmt = stmt.where(AuditEntry.object_id == f.object_id)
    if f.date_from:
        stmt = stmt.where(AuditEntry.at >= _day_start(f.date_from, tz_name))
    if f.date_to:
        stmt = stmt.where(AuditEntry.at < _day_start(f.date_to + timedelta(days=1), tz_name))
    return stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())


def list_entries(session, f: AuditFilter, page: int = 1, per_page: int = 50,
                 tz_name: str = "UTC") -> tuple[list[AuditEntry], int]:
    """One page of matching entries (with their actors loaded) and the total count."""
    stmt = query(f, tz_name)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    entries = list(session.scalars(stmt.options(selectinload(AuditEntry.actor))
                                   .limit(per_page).offset((max(page, 1) - 1) * per_page)))
    return entries, total


def _cell(value) -> str:
    """A CSV cell that spreadsheet programs will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_rows(session, f: AuditFilter, tz_name: str = "UTC", limit: int = EXPORT_LIMIT):
    """The matching entries as CSV text, one chunk per line (header first), newest first."""
    import json

    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    stmt = query(f, tz_name).options(selectinload(AuditEntry.actor)).limit(limit)
    for entry in session.scalars(stmt):
        at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)
        writer.writerow([_cell(v) for v in (
            entry.id, at.astimezone(UTC).isoformat(timespec="seconds"), entry.action, entry.actor_id,
            entry.actor.email if entry.actor else "", entry.object_type, entry.object_id, entry.organization_id,
            entry.summary, entry.remote_addr, json.dumps(entry.details or {}, ensure_ascii=False, sort_keys=True))])
        yield flush()


# --- what an entry says to a person ------------------------------------------------------------------
# The stored ``summary`` is a terse English line for exports and machines; the page describes each entry
# in the reader's language from its action and details, with labels instead of codes.

def _role_label(code) -> str:
    from marketplace.vocabulary import label
    return label("role", code) if code in ("operator", "broker", "organiser", "admin") else label("membership_role", code)


def describe(entry: AuditEntry) -> str:
    """The entry in the reader's language, with labels for every code (never the raw summary's codes)."""
    from flask_babel import gettext as _

    from marketplace.vocabulary import label
    d = entry.details or {}
    action = entry.action
    if action == "stage_change":
        return _("Stage: %(old)s → %(new)s", old=label("introduction_stage", d.get("from")),
                 new=label("introduction_stage", d.get("to")))
    if action == "verification":
        if entry.object_type == "batch":
            return _("Published batch %(number)s (%(count)s items)", number=d.get("number", ""),
                     count=len(d.get("offer_ids") or []))
        if entry.object_type == "organization":
            decision = d.get("decision")
            if decision == "request":
                return _("Asked for the organisation to be verified")
            return label("verification_status", {"approve": "approved", "reject": "rejected"}.get(decision, decision))
        return _("Review: %(old)s → %(new)s", old=label("offer_status", d.get("from")),
                 new=label("offer_status", d.get("to")))
    if action == "confidential_view":
        what = _("Accepted the confidentiality agreement") if d.get("kind") == "nda_accept" else _("Opened the details")
        return f"{what} ({label('visibility', d.get('visibility'))})" if d.get("visibility") else what
    if action == "access_decision":
        return _("Access request: %(decision)s", decision=label("verification_status", d.get("decision"))
                 if d.get("decision") in ("approved", "rejected") else _("Declined"))
    if action == "role_change":
        granted = d.get("change") == "granted"
        text = _("Granted %(role)s") if granted else _("Withdrew %(role)s")
        return text % {"role": label("role", d.get("role"))} + (f" · {d['email']}" if d.get("email") else "")
    if action == "token":
        revoked = (entry.summary or "").startswith("revoked")
        return _("Access token withdrawn") if revoked else _("Access token created")
    if action == "upload":
        name = d.get("name") or d.get("original_name") or ""
        text = _("File removed") if d.get("change") == "removed" else _("File added")
        return f"{text}: {name}" if name else text
    if action == "docking":
        if d.get("message_id"):
            return _("Reported a message")
        return _("Asked for docking")
    if action == "organization":
        change = d.get("change") or ""
        if change == "profile":
            return _("Edited the organisation's profile")
        if change == "invited":
            return _("Invited %(email)s as %(role)s", email=d.get("email", ""), role=_role_label(d.get("role")))
        if change == "joined":
            return _("Joined as %(role)s", role=_role_label(d.get("role")))
        if change == "invitation_withdrawn":
            return _("Withdrew an invitation")
        if change in ("left", "removed"):
            return _("A member left") if change == "left" else _("Removed a member")
        if change.startswith("role"):
            return _("Member's role: %(old)s → %(new)s", old=_role_label(d.get("old")), new=_role_label(d.get("new")))
    return str(ACTION_LABELS.get(action, ""))

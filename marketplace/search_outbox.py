"""The transactional outbox that keeps the search indexes in step with the database.

Every flush that touches a searchable row writes an outbox entry in the same transaction; after the
commit the relay job (``marketplace.tasks.search``) delivers the rows' current state to the backend and
marks the entries done only once the backend confirmed the write, retrying with backoff otherwise.
The functions here only read and flush; the job decides where each unit of work ends.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import event, func, insert, inspect, or_, select, text, update
from sqlalchemy.exc import DataError
from sqlalchemy.orm import aliased
from sqlalchemy.orm import Session

from marketplace import jobs, search_index
from marketplace.extensions import db
from marketplace.models import FinancialDetail, Need, Offer, Organization, PatentDetail, SearchOutboxEntry
from search import SearchError, SearchUnavailable

log = logging.getLogger(__name__)
RELAY_JOB = "search.relay"
RELAY_CHUNK = 1000
CLAIM_SECONDS = 900  # a relay still holding its claim after this long is presumed dead; others take over
DATA_ERRORS = (SearchError, ValueError, DataError)  # a refused document (or a driver's encoding error)
DELIVERY_ERRORS = (SearchUnavailable, OSError, *DATA_ERRORS)


# --- recording changes --------------------------------------------------------------------------------

# The organisation's columns its offers' and needs' documents repeat (search_index.offer_document / need_document):
# editing anything else (a description, a phone number) leaves those documents as they are.
ORG_FIELDS_IN_CHILD_DOCUMENTS = ("name_zh", "name_en", "kind", "sub_park")


def _children_fields_changed(org: Organization) -> bool:
    state = inspect(org)
    return any(state.attrs[name].history.has_changes() for name in ORG_FIELDS_IN_CHILD_DOCUMENTS)


def _changed_documents(session: Session) -> set[tuple[str, str]]:
    changed: set[tuple[str, str]] = set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Offer):
            changed.add(("offers", str(obj.id)))
        elif isinstance(obj, (PatentDetail, FinancialDetail)):
            changed.add(("offers", str(obj.offer_id)))
        elif isinstance(obj, Need):
            changed.add(("needs", str(obj.id)))
        elif isinstance(obj, Organization):
            changed.add(("organizations", str(obj.id)))
            if obj in session.deleted or (obj not in session.new and _children_fields_changed(obj)):
                changed.add(("org_children", str(obj.id)))
    return {c for c in changed if c[1] != "None"}


def _record_changes(session: Session, flush_context) -> None:
    """after_flush: write outbox rows in the same transaction as the change."""
    changed = _changed_documents(session)
    if not changed:
        return
    rows = []
    conn = session.connection()
    for index_name, doc_id in changed:
        if index_name == "org_children":
            org_id = int(doc_id)
            rows += [{"index_name": "offers", "doc_id": str(i)} for i in
                     conn.execute(select(Offer.id).where(Offer.organization_id == org_id)).scalars()]
            rows += [{"index_name": "needs", "doc_id": str(i)} for i in
                     conn.execute(select(Need.id).where(Need.organization_id == org_id)).scalars()]
        else:
            rows.append({"index_name": index_name, "doc_id": doc_id})
    now = datetime.now(timezone.utc)
    conn.execute(insert(SearchOutboxEntry), [dict(r, created_at=now, next_attempt_at=now, attempts=0,
                                                  last_error="") for r in rows])
    jobs.enqueue(session, RELAY_JOB)


def install_outbox_listener() -> None:
    """Listen on every session of the app's SQLAlchemy (idempotent)."""
    from flask_sqlalchemy.session import Session as FlaskSession
    if not event.contains(FlaskSession, "after_flush", _record_changes):
        event.listen(FlaskSession, "after_flush", _record_changes)


# --- delivering ---------------------------------------------------------------------------------------

def backoff(attempts: int) -> timedelta:
    """How long a failed entry waits before its next attempt (doubling, at most five minutes)."""
    return timedelta(seconds=min(2 ** attempts, 300))


@dataclass
class Delivery:
    """One index's due entries and the documents to write (ids absent from ``documents`` are deleted)."""
    index_name: str
    entry_ids: list[int]
    documents: dict[str, dict]
    missing: list[str] = field(default_factory=list)
    entries_by_doc: dict[str, list[int]] = field(default_factory=dict)

    def entries_of(self, doc_ids) -> list[int]:
        """The outbox entries standing for ``doc_ids``."""
        return [entry_id for doc_id in doc_ids for entry_id in self.entries_by_doc.get(doc_id, [])]


def claim_due(limit: int = RELAY_CHUNK, ignore_backoff: bool = False) -> str:
    """Claim due entries for one relay and return its claim token (the caller commits before reading documents).

    Relays run at the same time (the relay loop, workers, in-request relays), so each claims its entries in
    one statement that skips documents another relay is delivering: a document is never written by two relays
    at once, and the relay that holds it reads its state only after claiming, so no older state can land
    after a newer one. On PostgreSQL the claims queue on an advisory lock (each sees the previous claims) and
    skip rows others have locked; on SQLite the statement holds the one write lock.
    ``ignore_backoff`` takes failed entries at once (an operator's "relay now" after an outage).
    """
    token = uuid.uuid4().hex
    now = datetime.now(timezone.utc)
    stale = now - timedelta(seconds=CLAIM_SECONDS)
    entry, other = aliased(SearchOutboxEntry), aliased(SearchOutboxEntry)
    due = entry.done_at.is_(None) & or_(entry.claimed_at.is_(None), entry.claimed_at < stale)
    if not ignore_backoff:
        due = due & (entry.next_attempt_at <= now)
    in_flight = select(other.id).where(other.index_name == entry.index_name, other.doc_id == entry.doc_id,
                                       other.done_at.is_(None), other.claimed_at >= stale)
    candidates = select(entry.id).where(due, ~in_flight.exists()).order_by(entry.id).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext('index_outbox claims'))"))
        candidates = candidates.with_for_update(of=entry, skip_locked=True)
    db.session.execute(update(SearchOutboxEntry).where(SearchOutboxEntry.id.in_(candidates))
                       .values(claimed_by=token, claimed_at=now).execution_options(synchronize_session=False))
    db.session.flush()
    return token


def claimed_deliveries(token: str) -> list[Delivery]:
    """The entries claimed under ``token`` and the current documents of their rows (reads only)."""
    entries = db.session.execute(select(SearchOutboxEntry.id, SearchOutboxEntry.index_name, SearchOutboxEntry.doc_id)
                                 .where(SearchOutboxEntry.claimed_by == token, SearchOutboxEntry.done_at.is_(None))
                                 .order_by(SearchOutboxEntry.id)).all()
    by_index: dict[str, list] = {}
    for entry in entries:
        by_index.setdefault(entry.index_name, []).append(entry)
    deliveries = []
    for index_name, group in by_index.items():
        ids = sorted({int(e.doc_id) for e in group if e.doc_id.isascii() and e.doc_id.isdigit()})
        docs = search_index.documents_for(index_name, ids)
        by_doc: dict[str, list[int]] = {}
        for e in group:
            by_doc.setdefault(e.doc_id, []).append(e.id)
        deliveries.append(Delivery(index_name, [e.id for e in group], docs,
                                   [str(i) for i in ids if str(i) not in docs], by_doc))
    return deliveries


def release(token: str) -> None:
    """Give back what is still claimed under ``token`` (a relay that stopped half-way)."""
    db.session.execute(update(SearchOutboxEntry).where(SearchOutboxEntry.claimed_by == token)
                       .values(claimed_by=None, claimed_at=None).execution_options(synchronize_session=False))
    db.session.flush()


def deliver(delivery: Delivery) -> None:
    """Write one delivery to the search backend (no database work: the read transaction has ended)."""
    backend = search_index.backend()
    if delivery.documents:
        backend.upsert(delivery.index_name, list(delivery.documents.values()))
    if delivery.missing:
        backend.delete(delivery.index_name, delivery.missing)


def is_refusal(exc: BaseException) -> bool:
    """True when the backend answered but refused the content (an invalid document), as opposed to being
    out of reach: only then is it worth trying the documents one by one."""
    return not isinstance(exc, (SearchUnavailable, OSError)) and isinstance(exc, DATA_ERRORS)


def deliver_each(delivery: Delivery) -> tuple[list[int], list[tuple[list[int], BaseException]]]:
    """Write a refused delivery document by document, so one bad document fails alone.

    Returns the delivered entry ids and (entry ids, error) per failing document; entries of ids that no
    longer resolve to a document (malformed ids) count as delivered.
    """
    backend = search_index.backend()
    delivered: list[int] = []
    failures: list[tuple[list[int], BaseException]] = []
    for doc_id, document in delivery.documents.items():
        try:
            backend.upsert(delivery.index_name, [document])
        except DELIVERY_ERRORS as exc:
            if not is_refusal(exc):
                raise
            log.warning("search relay: document %s of %s refused: %s", doc_id, delivery.index_name, exc)
            failures.append((delivery.entries_of([doc_id]), exc))
        else:
            delivered += delivery.entries_of([doc_id])
    if delivery.missing:
        backend.delete(delivery.index_name, delivery.missing)
        delivered += delivery.entries_of(delivery.missing)
    handled = set(delivered) | {entry for ids, _ in failures for entry in ids}
    delivered += [entry for entry in delivery.entry_ids if entry not in handled]
    return delivered, failures


def record_delivered(entry_ids: list[int]) -> None:
    """Mark entries done: the backend confirmed their write."""
    db.session.execute(update(SearchOutboxEntry).where(SearchOutboxEntry.id.in_(entry_ids))
                       .values(done_at=datetime.now(timezone.utc), claimed_by=None, claimed_at=None))
    db.session.flush()


def record_failed(entry_ids: list[int], error: BaseException) -> None:
    """Count a failed attempt and schedule the next one after the entry's backoff."""
    now = datetime.now(timezone.utc)
    message = f"{error.__class__.__name__}: {error}"[:1000]
    for entry in db.session.scalars(select(SearchOutboxEntry).where(SearchOutboxEntry.id.in_(entry_ids))):
        entry.attempts += 1
        entry.next_attempt_at = now + backoff(entry.attempts)
        entry.last_error = message
        entry.claimed_by = entry.claimed_at = None
    db.session.flush()


def replay_since(index_name: str, started: datetime) -> None:
    """Make entries written since ``started`` due again (a reindex swap dropped what they delivered)."""
    db.session.execute(update(SearchOutboxEntry).where(SearchOutboxEntry.index_name == index_name,
                                                       SearchOutboxEntry.created_at >= started)
                       .values(done_at=None, next_attempt_at=started, claimed_by=None, claimed_at=None))
    db.session.flush()


# --- status -------------------------------------------------------------------------------------------

def outbox_status() -> dict:
    """Pending entries, how many are retrying and the age in seconds of the oldest pending one."""
    pending = db.session.scalar(select(func.count(SearchOutboxEntry.id)).where(SearchOutboxEntry.done_at.is_(None)))
    oldest = db.session.scalar(select(func.min(SearchOutboxEntry.created_at)).where(SearchOutboxEntry.done_at.is_(None)))
    lag = None
    if oldest is not None:
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=timezone.utc)
        lag = (datetime.now(timezone.utc) - oldest).total_seconds()
    failing = db.session.scalar(select(func.count(SearchOutboxEntry.id)).where(
        SearchOutboxEntry.done_at.is_(None), SearchOutboxEntry.attempts > 0))
    return {"pending": pending or 0, "lag_seconds": lag, "retrying": failing or 0}


def health(details: bool = True) -> dict:
    """Status of the configured search backend and of the outbox (never raises).

    Without ``details`` (anonymous callers of ``/healthz``) only ``{"ok": bool}``: no address, version,
    per-index counts (hidden records included) or outbox backlog.
    """
    try:
        status = search_index.backend().health()
    except Exception as exc:  # the health check reports, never raises
        status = {"ok": False, "backend": "meilisearch" if current_app.config.get("MEILI_URL") else "embedded",
                  "error": exc.__class__.__name__}
    if not details:
        return {"ok": bool(status.get("ok"))}
    try:
        status["pending"] = outbox_status()["pending"]
    except Exception:
        db.session.rollback()
    return status

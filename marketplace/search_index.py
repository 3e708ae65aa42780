"""Bridge between the marketplace and the search library.

* Index specs and the documents built from rows (with visibility tokens, so drafts and confidential
  needs never reach people who may not see them, whichever backend serves the query).
* The transactional outbox: every flush that touches a searchable row writes an outbox entry in the
  same transaction; after the commit a relay job delivers the rows' current state to the backend and
  marks entries done only once the backend confirmed the write (retrying with backoff otherwise).
* The backend is chosen at start-up: Meilisearch with ``MEILI_URL``, else the embedded backend on the
  app's own database.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import event, func, insert, select
from sqlalchemy.orm import Session, selectinload

from marketplace import jobs
from marketplace.extensions import db
from marketplace.models import FinancialDetail, Need, Offer, Organization, PatentDetail, SearchOutboxEntry
from marketplace import visibility
from search import IndexSpec, SearchError, SearchQuery, SearchResult, SearchUnavailable, create_backend

log = logging.getLogger(__name__)

SYNONYMS = {
    "核酸检测": ["PCR", "nucleic acid test", "核酸"],
    "呼吸机": ["ventilator"],
    "测温": ["体温筛查", "temperature screening", "thermometer"],
    "口罩": ["mask", "respirator"],
    "防护服": ["protective clothing", "coverall"],
    "人工智能": ["AI", "artificial intelligence"],
    "无人配送": ["unmanned delivery", "autonomous delivery"],
    "疫苗": ["vaccine"],
    "贷款": ["loan"],
}
LOCALIZED = {"cmn": ["*_zh"], "eng": ["*_en"]}

SPECS = {
    "offers": IndexSpec(
        name="offers",
        searchable=["title_zh", "title_en", "tags", "summary_zh", "summary_en", "org_name_zh", "org_name_en",
                    "body_zh", "body_en", "application_number"],
        filterable=["kind", "status", "visibility", "direction", "field", "batch", "trl", "regulatory",
                    "partnership", "sub_park", "org_kind", "org_id", "high_value"],
        facets=["kind", "direction", "field", "batch", "trl", "regulatory", "partnership", "sub_park", "org_kind"],
        sortable=["published_at", "trl", "value_score", "title_en"],
        localized=LOCALIZED, synonyms=SYNONYMS, suggest_fields=["title_zh", "title_en"]),
    "needs": IndexSpec(
        name="needs",
        searchable=["title_zh", "title_en", "tags", "description_zh", "description_en", "org_name_zh",
                    "org_name_en"],
        filterable=["kind", "status", "visibility", "direction", "field", "urgency", "org_kind", "org_id"],
        facets=["kind", "status", "direction", "urgency", "org_kind"],
        sortable=["created_at", "deadline"],
        localized=LOCALIZED, synonyms=SYNONYMS, suggest_fields=["title_zh", "title_en"]),
    "organizations": IndexSpec(
        name="organizations",
        searchable=["name_zh", "name_en", "description_zh", "description_en"],
        filterable=["kind", "sub_park", "visibility"],
        facets=["kind", "sub_park"],
        sortable=["name_en"],
        localized=LOCALIZED, synonyms={}, suggest_fields=["name_zh", "name_en"]),
}


# --- backend ------------------------------------------------------------------------------------------

def backend():
    """The configured backend, created once per app and its indexes ensured."""
    ext = current_app.extensions
    if "tb_search" not in ext:
        cfg = current_app.config
        instance = create_backend(meili_url=cfg.get("MEILI_URL"), meili_key=cfg.get("MEILI_MASTER_KEY"),
                                  engine=None if cfg.get("MEILI_URL") else db.engine,
                                  index_prefix=cfg.get("MEILI_INDEX_PREFIX", "tb_"))
        for spec in SPECS.values():
            instance.ensure_index(spec)
        ext["tb_search"] = instance
    return ext["tb_search"]


def health() -> dict:
    """Status of the configured search backend and of the outbox."""
    try:
        status = backend().health()
    except Exception as exc:  # the health check reports, never raises
        status = {"ok": False, "backend": "meilisearch" if current_app.config.get("MEILI_URL") else "embedded",
                  "error": exc.__class__.__name__}
    try:
        status["pending"] = outbox_status()["pending"]
    except Exception:
        db.session.rollback()
    return status


def reset_for_tests() -> None:
    """Drop and recreate every index (test isolation)."""
    b = backend()
    for spec in SPECS.values():
        b.drop_index(spec.name)
        b.ensure_index(spec)


# --- documents ----------------------------------------------------------------------------------------

def _ts(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return int(value.timestamp())
    return int(datetime(value.year, value.month, value.day, tzinfo=timezone.utc).timestamp())


def _field_codes(fields) -> tuple[list[str], list[str]]:
    codes = sorted({f.code for f in fields})
    directions = sorted({f.code.split(".")[0] for f in fields})
    return codes, directions


def offer_visibility_tokens(offer: Offer) -> list[str]:
    """Who may find the offer (``visibility.OFFER_OPEN``)."""
    return visibility.OFFER_OPEN.tokens(offer)


def need_visibility_tokens(need: Need) -> list[str]:
    """Who may find the need (``visibility.NEED_OPEN``)."""
    return visibility.NEED_OPEN.tokens(need)


def viewer_tokens(user) -> list[str]:
    """The visibility tokens a viewer holds (``visibility.Viewer.tokens``)."""
    return visibility.viewer_tokens(user)


def _public(item) -> visibility.SafeView:
    # One document serves every viewer, so it holds only what an anonymous visitor may be shown: a teaser or
    # confidential item's details (and a teaser patent's application number) are neither indexed nor findable.
    return visibility.static_view(visibility.ANONYMOUS, item)


def offer_document(offer: Offer) -> dict:
    """The offer's search document: its public view and who may find it."""
    codes, directions = _field_codes(offer.fields)
    org = offer.organization
    view = _public(offer)
    body_zh = "\n".join(filter(None, [view.description_zh, view.problem_zh, view.advantage_zh, view.scenarios_zh]))
    body_en = "\n".join(filter(None, [view.description_en, view.problem_en, view.advantage_en, view.scenarios_en]))
    doc = {
        "id": str(offer.id), "title_zh": view.title_zh or "", "title_en": view.title_en or "",
        "summary_zh": view.summary_zh or "", "summary_en": view.summary_en or "",
        "body_zh": body_zh[:5000], "body_en": body_en[:5000], "tags": list(view.tags or []),
        "org_name_zh": org.name_zh, "org_name_en": org.name_en or "", "org_id": str(org.id),
        "org_kind": org.kind, "sub_park": org.sub_park or "", "kind": view.kind, "status": view.status,
        "visibility": offer_visibility_tokens(offer), "direction": directions, "field": codes,
        "batch": str(offer.batch.number) if offer.batch else "", "trl": view.trl,
        "regulatory": list(view.regulatory_statuses or []), "partnership": list(view.partnership_modes or []),
        "published_at": _ts(offer.published_at), "application_number": "", "high_value": "no", "value_score": None,
    }
    patent = view.patent
    if patent is not None:
        doc["application_number"] = patent.application_number or ""
        doc["high_value"] = "yes" if patent.curation_stage == "high_value" else "no"
        doc["value_score"] = patent.value_score
    return doc


def need_document(need: Need) -> dict:
    """The need's search document: its public view (a teaser need's teaser text) and who may find it."""
    codes, directions = _field_codes(need.fields)
    org = need.organization
    view = _public(need)
    return {
        "id": str(need.id), "title_zh": view.title_zh or "", "title_en": view.title_en or "",
        "description_zh": (view.description_zh or "")[:5000], "description_en": (view.description_en or "")[:5000],
        "tags": list(view.tags or []), "org_name_zh": org.name_zh, "org_name_en": org.name_en or "",
        "org_id": str(org.id), "org_kind": org.kind, "kind": view.kind, "status": view.status,
        "visibility": need_visibility_tokens(need), "direction": directions, "field": codes,
        "urgency": view.urgency, "created_at": _ts(need.created_at), "deadline": _ts(need.deadline),
    }


def organization_document(org: Organization) -> dict:
    """An organisation's search document (organisations are public: ``visibility.ORGANIZATION_OPEN``)."""
    return {"id": str(org.id), "name_zh": org.name_zh, "name_en": org.name_en or "",
            "description_zh": org.description_zh or "", "description_en": org.description_en or "",
            "kind": org.kind, "sub_park": org.sub_park or "",
            "visibility": visibility.ORGANIZATION_OPEN.tokens(org)}


LOADERS = {
    "offers": (Offer, offer_document, [selectinload(Offer.fields), selectinload(Offer.organization),
                                       selectinload(Offer.patent), selectinload(Offer.batch)]),
    "needs": (Need, need_document, [selectinload(Need.fields), selectinload(Need.organization)]),
    "organizations": (Organization, organization_document, []),
}


def documents_for(index_name: str, ids: list[int]) -> dict[str, dict]:
    model, build, options = LOADERS[index_name]
    rows = db.session.scalars(select(model).where(model.id.in_(ids)).options(*options)) if ids else []
    return {str(row.id): build(row) for row in rows}


def all_documents(index_name: str, chunk: int = 500):
    model, build, options = LOADERS[index_name]
    last = 0
    while True:
        rows = list(db.session.scalars(select(model).where(model.id > last).order_by(model.id).limit(chunk)
                                       .options(*options)))
        if not rows:
            return
        for row in rows:
            yield build(row)
        last = rows[-1].id


# --- outbox -------------------------------------------------------------------------------------------

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
            if obj not in session.new:
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
    jobs.enqueue(session, "search.relay")


def install_outbox_listener() -> None:
    """Listen on every session of the app's SQLAlchemy (idempotent)."""
    from flask_sqlalchemy.session import Session as FlaskSession
    if not event.contains(FlaskSession, "after_flush", _record_changes):
        event.listen(FlaskSession, "after_flush", _record_changes)


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2 ** attempts, 300))


@jobs.job("search.relay")
def relay(limit: int = 1000, ignore_backoff: bool = False) -> dict:
    """Deliver pending outbox entries; each entry is marked done only after the backend confirmed it.

    ``ignore_backoff`` retries failed entries at once (an operator's "relay now" after an outage).
    """
    now = datetime.now(timezone.utc)
    due = SearchOutboxEntry.done_at.is_(None)
    if not ignore_backoff:
        due = due & (SearchOutboxEntry.next_attempt_at <= now)
    entries = list(db.session.scalars(select(SearchOutboxEntry).where(due).order_by(SearchOutboxEntry.id)
                                      .limit(limit)))
    by_index: dict[str, list[SearchOutboxEntry]] = {}
    for entry in entries:
        by_index.setdefault(entry.index_name, []).append(entry)
    delivered = failed = 0
    for index_name, group in by_index.items():
        ids = sorted({int(e.doc_id) for e in group if e.doc_id.isdigit()})
        try:
            docs = documents_for(index_name, ids)
            # End the read transaction before the backend writes (SQLite allows one writer at a time).
            db.session.commit()
            b = backend()
            if docs:
                b.upsert(index_name, list(docs.values()))
            missing = [str(i) for i in ids if str(i) not in docs]
            if missing:
                b.delete(index_name, missing)
        except (SearchUnavailable, SearchError, OSError) as exc:
            for entry in group:
                entry.attempts += 1
                entry.next_attempt_at = now + backoff(entry.attempts)
                entry.last_error = f"{exc.__class__.__name__}: {exc}"[:1000]
            failed += len(group)
            log.warning("search relay: %s entries for %s not delivered: %s", len(group), index_name, exc)
        else:
            for entry in group:
                entry.done_at = now
            delivered += len(group)
    db.session.commit()  # the relay is its own unit of work (a job, after the request's commit)
    return {"delivered": delivered, "failed": failed}


def outbox_status() -> dict:
    pending = db.session.scalar(select(func.count(SearchOutboxEntry.id)).where(SearchOutboxEntry.done_at.is_(None)))
    oldest = db.session.scalar(select(func.min(SearchOutboxEntry.created_at)).where(SearchOutboxEntry.done_at.is_(None)))
    lag = None
    if oldest is not None:
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=timezone.utc)
        lag = (datetime.now(timezone.utc) - oldest).total_seconds()
    failing = db.session.scalar(select(func.count(SearchOutboxEntry.id)).where(
        SearchOutboxEntry.done_at.is_(None), SearchOutboxEntry.attempts > 0))
    return {"pending": pending or 0, "lag_seconds": lag, "retrying": failing or 0}


def reindex(index_name: str | None = None) -> dict[str, int]:
    """Rebuild indexes from the database with no gap in service (shadow index, then swap).

    Writes relayed while the shadow copy was being built went to the old copy and vanish at the swap,
    so the outbox entries since the start are replayed afterwards: nothing is lost.
    """
    from sqlalchemy import update
    counts = {}
    for name in ([index_name] if index_name else list(SPECS)):
        started = datetime.now(timezone.utc)
        db.session.commit()  # read the rows in a fresh transaction
        counts[name] = backend().reindex(SPECS[name], all_documents(name))
        db.session.execute(update(SearchOutboxEntry).where(SearchOutboxEntry.index_name == name,
                                                           SearchOutboxEntry.created_at >= started)
                           .values(done_at=None, next_attempt_at=started))
        db.session.commit()
    relay()
    return counts


# --- queries ------------------------------------------------------------------------------------------

def search(index_name: str, query: SearchQuery, user) -> SearchResult:
    """Run ``query`` restricted to what ``user`` may see (visibility tokens are always applied)."""
    filters = dict(query.filters or {})
    filters["visibility"] = viewer_tokens(user)
    query.filters = filters
    return backend().search(index_name, query)


def suggest(index_name: str, prefix: str, user, limit: int = 8) -> list[str]:
    return backend().suggest(index_name, prefix, limit=limit, filters={"visibility": viewer_tokens(user)})

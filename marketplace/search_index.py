"""Bridge between the marketplace and the search library.

* Index specs and the documents built from rows (with visibility tokens, so drafts and confidential
  needs never reach people who may not see them, whichever backend serves the query).
* The transactional outbox that keeps the indexes in step lives in ``search_outbox``; the relay and
  reindex jobs in ``tasks.search``.
* The backend is chosen at start-up: Meilisearch with ``MEILI_URL``, else the embedded backend on the
  app's own database.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.extensions import db
from marketplace import visibility
from marketplace.models import Need, Offer, Organization
from search import IndexSpec, SearchQuery, SearchResult, create_backend
from search.assist import pinyin_forms

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
VOCABULARY_CACHE = "tb_search_vocabulary"  # app.extensions key of the words behind "did you mean"

SPECS = {
    "offers": IndexSpec(
        name="offers",
        searchable=["title_zh", "title_en", "tags", "summary_zh", "summary_en", "org_name_zh", "org_name_en",
                    "body_zh", "body_en", "application_number", "pinyin"],
        filterable=["kind", "status", "visibility", "direction", "field", "batch", "trl", "regulatory",
                    "partnership", "sub_park", "org_kind", "org_id", "high_value"],
        facets=["kind", "direction", "field", "batch", "trl", "regulatory", "partnership", "sub_park", "org_kind"],
        sortable=["published_at", "trl", "value_score", "title_en"],
        localized=LOCALIZED, synonyms=SYNONYMS, suggest_fields=["title_zh", "title_en"]),
    "needs": IndexSpec(
        name="needs",
        searchable=["title_zh", "title_en", "tags", "description_zh", "description_en", "org_name_zh",
                    "org_name_en", "pinyin"],
        filterable=["kind", "status", "visibility", "direction", "field", "urgency", "org_kind", "org_id"],
        facets=["kind", "status", "direction", "urgency", "org_kind"],
        sortable=["created_at", "deadline"],
        localized=LOCALIZED, synonyms=SYNONYMS, suggest_fields=["title_zh", "title_en"]),
    "organizations": IndexSpec(
        name="organizations",
        searchable=["name_zh", "name_en", "description_zh", "description_en", "pinyin"],
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


def reachable() -> bool:
    """Whether the search backend answers now (one cheap call: the anonymous ``/healthz``); never raises."""
    try:
        return bool(backend().ping())
    except Exception:  # noqa: BLE001 (a broken or unreachable backend is "not reachable")
        return False


def reset_for_tests() -> None:
    """Drop and recreate every index (test isolation)."""
    b = backend()
    for spec in SPECS.values():
        b.drop_index(spec.name)
        b.ensure_index(spec)
    current_app.extensions.pop(VOCABULARY_CACHE, None)  # the words of the dropped documents


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
        "pinyin": " ".join(pinyin_forms(view.title_zh or "", *(view.tags or []))),
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
        "pinyin": " ".join(pinyin_forms(view.title_zh or "", *(view.tags or []))),
    }


def organization_document(org: Organization) -> dict:
    """An organisation's search document (organisations are public: ``visibility.ORGANIZATION_OPEN``)."""
    return {"id": str(org.id), "name_zh": org.name_zh, "name_en": org.name_en or "",
            "description_zh": org.description_zh or "", "description_en": org.description_en or "",
            "kind": org.kind, "sub_park": org.sub_park or "", "pinyin": " ".join(pinyin_forms(org.name_zh or "")),
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


# --- queries ------------------------------------------------------------------------------------------

def search(index_name: str, query: SearchQuery, user) -> SearchResult:
    """Run ``query`` restricted to what ``user`` may see (visibility tokens are always applied)."""
    filters = dict(query.filters or {})
    filters["visibility"] = viewer_tokens(user)
    query.filters = filters
    return backend().search(index_name, query)


def search_many(searches: list[tuple[str, SearchQuery]], user) -> list[SearchResult]:
    """Several queries restricted to what ``user`` may see, sent at once (one request to Meilisearch)."""
    tokens = viewer_tokens(user)
    for _name, query in searches:
        query.filters = {**(query.filters or {}), "visibility": tokens}
    return backend().search_many(searches)


def suggest(index_name: str, prefix: str, user, limit: int = 8) -> list[str]:
    return backend().suggest(index_name, prefix, limit=limit, filters={"visibility": viewer_tokens(user)})

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
from marketplace.models import Need, Offer, Organization
from search import IndexSpec, SearchQuery, SearchResult, create_backend

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
    tokens = {f"org:{offer.organization_id}", "role:operator"}
    if offer.status == "published":
        tokens.add("role:broker")
        if offer.visibility != "confidential":
            tokens.add("public")
    return sorted(tokens)


def need_visibility_tokens(need: Need) -> list[str]:
    tokens = {f"org:{need.organization_id}", "role:operator"}
    if need.status != "draft":
        tokens.add("role:broker")
        if need.visibility != "confidential":
            tokens.add("public")
    return sorted(tokens)


def viewer_tokens(user) -> list[str]:
    """The visibility tokens a viewer holds (mirrors services.access)."""
    from marketplace.services import access
    tokens = ["public"]
    if getattr(user, "is_authenticated", False):
        tokens += [f"org:{i}" for i in sorted(user.org_ids)]
        if access.is_staff(user):
            tokens.append("role:operator")
        if access.is_broker(user):
            tokens.append("role:broker")
    return tokens


def offer_document(offer: Offer) -> dict:
    codes, directions = _field_codes(offer.fields)
    org = offer.organization
    body_zh = "\n".join(filter(None, [offer.description_zh, offer.problem_zh, offer.advantage_zh, offer.scenarios_zh]))
    body_en = "\n".join(filter(None, [offer.description_en, offer.problem_en, offer.advantage_en, offer.scenarios_en]))
    if offer.visibility == "teaser":  # the public index holds only the teaser (services.confidentiality)
        body_zh = body_en = ""
    doc = {
        "id": str(offer.id), "title_zh": offer.title_zh or "", "title_en": offer.title_en or "",
        "summary_zh": offer.summary_zh or "", "summary_en": offer.summary_en or "",
        "body_zh": body_zh[:5000], "body_en": body_en[:5000], "tags": list(offer.tags or []),
        "org_name_zh": org.name_zh, "org_name_en": org.name_en or "", "org_id": str(org.id),
        "org_kind": org.kind, "sub_park": org.sub_park or "", "kind": offer.kind, "status": offer.status,
        "visibility": offer_visibility_tokens(offer), "direction": directions, "field": codes,
        "batch": str(offer.batch.number) if offer.batch else "", "trl": offer.trl,
        "regulatory": list(offer.regulatory_statuses or []), "partnership": list(offer.partnership_modes or []),
        "published_at": _ts(offer.published_at), "application_number": "", "high_value": "no", "value_score": None,
    }
    if offer.patent is not None:
        doc["application_number"] = offer.patent.application_number
        doc["high_value"] = "yes" if offer.patent.curation_stage == "high_value" else "no"
        doc["value_score"] = offer.patent.value_score
    return doc


def need_document(need: Need) -> dict:
    codes, directions = _field_codes(need.fields)
    org = need.organization
    # A teaser need's public document holds only the start of its description (services.confidentiality).
    limit = 140 if need.visibility == "teaser" else 5000
    return {
        "id": str(need.id), "title_zh": need.title_zh or "", "title_en": need.title_en or "",
        "description_zh": (need.description_zh or "")[:limit], "description_en": (need.description_en or "")[:limit],
        "tags": list(need.tags or []), "org_name_zh": org.name_zh, "org_name_en": org.name_en or "",
        "org_id": str(org.id), "org_kind": org.kind, "kind": need.kind, "status": need.status,
        "visibility": need_visibility_tokens(need), "direction": directions, "field": codes,
        "urgency": need.urgency, "created_at": _ts(need.created_at), "deadline": _ts(need.deadline),
    }


def organization_document(org: Organization) -> dict:
    return {"id": str(org.id), "name_zh": org.name_zh, "name_en": org.name_en or "",
            "description_zh": org.description_zh or "", "description_en": org.description_en or "",
            "kind": org.kind, "sub_park": org.sub_park or "", "visibility": ["public"]}


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


def suggest(index_name: str, prefix: str, user, limit: int = 8) -> list[str]:
    return backend().suggest(index_name, prefix, limit=limit, filters={"visibility": viewer_tokens(user)})

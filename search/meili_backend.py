"""Meilisearch backend (official `meilisearch` client).

Writes return only after Meilisearch reports the task `succeeded` (so an outbox relay can
mark entries done once confirmed). Unreachable server / request timeouts raise
SearchUnavailable; 503/429 answers are retried after their `Retry-After` delay (bounded);
failed tasks raise SearchError.
"""
from __future__ import annotations

import email.utils
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import meilisearch
from meilisearch.errors import MeilisearchApiError, MeilisearchCommunicationError, MeilisearchTimeoutError

from ._embedded.results import rank_suggestions
from .base import (
    FilterValue,
    Hit,
    IndexSpec,
    SearchBackend,
    SearchError,
    SearchQuery,
    SearchResult,
    SearchTimeout,
    SearchUnavailable,
    check_documents,
    facet_key,
)
from .text import escape_with_sentinels, normalize

log = logging.getLogger(__name__)
T = TypeVar("T")

# Sort first: an explicit sort is the primary order (like the embedded backends); without a
# sort parameter the rule is a no-op and relevance rules decide.
DEFAULT_RANKING_RULES = ("sort", "words", "typo", "proximity", "attribute", "exactness")
# Private-use characters as highlight tags: Meilisearch does not escape HTML, so we escape
# the formatted text ourselves and only then turn these into <mark> tags.
PRE_TAG, POST_TAG = "\ue000", "\ue001"
UPLOAD_BATCH = 5000
MAX_TOTAL_HITS = 10000
MAX_FACET_VALUES = 100


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Parse a Retry-After header (delta-seconds or HTTP-date) into seconds (>= 0)."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def call_with_retry(fn: Callable[[], T], *, max_retries: int = 3, max_delay: float = 10.0,
                    sleep: Callable[[float], None] = time.sleep) -> T:
    """Call `fn` (a Meilisearch client call), translating errors to library errors.

    503/429 answers are retried up to `max_retries` times, waiting the server's Retry-After
    (or an exponential backoff when absent). A Retry-After longer than `max_delay` is not
    waited for: SearchUnavailable is raised with `.retry_after` set so the caller can
    reschedule.
    """
    attempt = 0
    while True:
        try:
            return fn()
        except MeilisearchApiError as exc:
            status = exc.status_code
            if status in (429, 503):
                response = getattr(exc.__cause__, "response", None)
                header = response.headers.get("Retry-After") if response is not None else None
                delay = retry_after_seconds(header)
                if delay is None:
                    delay = min(max_delay, 0.25 * 2 ** attempt)
                if attempt >= max_retries or delay > max_delay:
                    error = SearchUnavailable(f"Meilisearch busy (HTTP {status}): {exc.message}")
                    error.retry_after = delay  # type: ignore[attr-defined]
                    raise error from exc
                attempt += 1
                log.info("Meilisearch answered %s; retrying in %.2fs (attempt %d)", status, delay, attempt)
                sleep(delay)
                continue
            if status >= 500:
                raise SearchUnavailable(f"Meilisearch error (HTTP {status}): {exc.message}") from exc
            raise SearchError(f"Meilisearch rejected the request ({exc.code}): {exc.message}") from exc
        except (MeilisearchCommunicationError, MeilisearchTimeoutError) as exc:
            raise SearchUnavailable(f"Meilisearch unreachable: {exc.message}") from exc


def meili_filter(filters: Mapping[str, list | dict]) -> list[str]:
    """Library filters -> Meilisearch filter expressions (list items are AND-ed)."""
    expressions = []
    for name, accepted in filters.items():
        if isinstance(accepted, dict):
            ops = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
            expressions.extend(f"{name} {ops[op]} {json.dumps(float(v))}" for op, v in accepted.items())
        else:
            values = ", ".join(json.dumps(facet_key(v), ensure_ascii=False) for v in accepted)
            expressions.append(f"{name} IN [{values}]")
    return expressions


def meili_settings(spec: IndexSpec) -> dict[str, Any]:
    """Index settings derived from the spec."""
    synonyms: dict[str, list[str]] = {}
    for group in spec.synonym_groups():
        for term in group:
            synonyms[term] = [other for other in group if other != term]
    return {
        "searchableAttributes": list(spec.searchable),
        "filterableAttributes": sorted(set(spec.filterable) | set(spec.facets or ())),
        "sortableAttributes": list(spec.sortable),
        "rankingRules": list(spec.ranking_rules or DEFAULT_RANKING_RULES),
        "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9}},
        "synonyms": synonyms,
        # Segment *_zh fields as Chinese (jieba-based) and *_en as English.
        "localizedAttributes": [
            {"attributePatterns": list(patterns), "locales": [locale]}
            for locale, patterns in spec.localized.items()
        ] or None,
        "faceting": {"maxValuesPerFacet": MAX_FACET_VALUES},
        "pagination": {"maxTotalHits": MAX_TOTAL_HITS},
    }


class MeiliBackend(SearchBackend):
    """Meilisearch implementation. Index uid = index_prefix + spec.name."""

    kind = "meilisearch"

    def __init__(self, url: str, api_key: str | None = None, *, index_prefix: str = "",
                 request_timeout: float = 5.0, task_timeout: float = 30.0,
                 max_retries: int = 3, max_retry_delay: float = 10.0) -> None:
        self.url = url
        self._client_args = (url, api_key, request_timeout)
        self._local = threading.local()
        self.index_prefix = index_prefix
        self.task_timeout = task_timeout
        self.max_retries = max_retries
        self.max_retry_delay = max_retry_delay
        self._specs: dict[str, IndexSpec] = {}  # logical name -> spec (from ensure_index)
        self._primary_keys: dict[str, str] = {}
        self._searchable: dict[str, list[str]] = {}

    # ------------------------------------------------------------------ plumbing

    @property
    def client(self) -> meilisearch.Client:
        """One client per thread: the official client's HTTP layer mutates shared headers per
        request, so sharing it between threads (Flask, relay workers) is not safe."""
        client = getattr(self._local, "client", None)
        if client is None:
            url, api_key, timeout = self._client_args
            client = self._local.client = meilisearch.Client(url, api_key, timeout=timeout)
        return client

    def uid(self, name: str) -> str:
        return f"{self.index_prefix}{name}"

    def _call(self, fn: Callable[[], T]) -> T:
        return call_with_retry(fn, max_retries=self.max_retries, max_delay=self.max_retry_delay)

    def _wait(self, task_uid: int, timeout: float | None = None) -> dict:
        """Poll the task until it finishes; SearchError if it failed, SearchTimeout if slow."""
        deadline = time.monotonic() + (timeout or self.task_timeout)
        interval = 0.005
        while True:
            task = self._call(lambda: self.client.http.get(f"tasks/{task_uid}"))
            status = task.get("status")
            if status == "succeeded":
                return task
            if status in ("failed", "canceled"):
                error = task.get("error") or {}
                raise SearchError(f"Meilisearch task {task_uid} {status}: {error.get('code')}: {error.get('message')}")
            if time.monotonic() >= deadline:
                raise SearchTimeout(f"Meilisearch task {task_uid} not confirmed within {timeout or self.task_timeout}s")
            time.sleep(interval)
            interval = min(interval * 2, 0.2)

    def _index_exists(self, uid: str) -> bool:
        try:
            self._call(lambda: self.client.get_raw_index(uid))
            return True
        except SearchError as exc:
            if "index_not_found" in str(exc):
                return False
            raise

    def _primary_key(self, name: str) -> str:
        if name in self._specs:
            return self._specs[name].primary_key
        if name not in self._primary_keys:
            info = self._call(lambda: self.client.get_raw_index(self.uid(name)))
            self._primary_keys[name] = info.get("primaryKey") or "id"
        return self._primary_keys[name]

    def _searchable_fields(self, name: str) -> list[str]:
        if name in self._specs:
            return list(self._specs[name].searchable)
        if name not in self._searchable:
            fields = self._call(lambda: self.client.index(self.uid(name)).get_searchable_attributes())
            self._searchable[name] = list(fields)
        return self._searchable[name]

    def _apply_settings(self, uid: str, spec: IndexSpec) -> None:
        if not self._index_exists(uid):
            task = self._call(lambda: self.client.create_index(uid, {"primaryKey": spec.primary_key}))
            self._wait(task.task_uid)
        wanted = meili_settings(spec)
        current = self._call(lambda: self.client.index(uid).get_settings())
        changed = {k: v for k, v in wanted.items() if not _settings_equal(k, current.get(k), v)}
        if changed:
            task = self._call(lambda: self.client.index(uid).update_settings(changed))
            self._wait(task.task_uid)

    # ------------------------------------------------------------------ interface

    def ensure_index(self, spec: IndexSpec) -> None:
        """Create the index if needed and update only the settings that differ from `spec`."""
        self._apply_settings(self.uid(spec.name), spec)
        self._specs[spec.name] = spec

    def upsert(self, name: str, docs: Iterable[Mapping[str, Any]]) -> int:
        """Add or replace documents; returns after every batch task succeeded."""
        pk = self._primary_key(name)
        return self._upload(self.uid(name), pk, docs)

    def _upload(self, uid: str, pk: str, docs: Iterable[Mapping[str, Any]]) -> int:
        index = self.client.index(uid)
        task_uids, written, batch = [], 0, []

        def flush(batch: list) -> None:
            checked = check_documents(pk, batch)
            task = self._call(lambda: index.add_documents(checked, primary_key=pk))
            task_uids.append(task.task_uid)

        for doc in docs:
            batch.append(doc)
            if len(batch) >= UPLOAD_BATCH:
                flush(batch)
                written += len(batch)
                batch = []
        if batch:
            flush(batch)
            written += len(batch)
        for task_uid in task_uids:
            self._wait(task_uid, timeout=max(self.task_timeout, len(task_uids) * 10.0))
        return written

    def delete(self, name: str, ids: Iterable[str]) -> int:
        """Delete documents by id; returns after the task succeeded (number of ids requested)."""
        ids = [str(i) for i in ids]
        if not ids:
            return 0
        # Plain endpoint call: the client's delete_documents(ids) is deprecated.
        task = self._call(lambda: self.client.http.post(f"indexes/{self.uid(name)}/documents/delete-batch", ids))
        done = self._wait(task["taskUid"])
        return int((done.get("details") or {}).get("deletedDocuments", len(ids)))

    def search(self, name: str, query: SearchQuery) -> SearchResult:
        return self.search_many([(name, query)])[0]

    def search_many(self, searches) -> list[SearchResult]:
        """Every query in one multi-search request (queries that can match nothing are not sent)."""
        started = time.perf_counter()
        plans = [self._plan(name, query) for name, query in searches]
        sent = [plan["request"] for plan in plans if plan["request"] is not None]
        answers = iter(self._call(lambda: self.client.multi_search(sent))["results"]) if sent else iter(())
        took = round((time.perf_counter() - started) * 1000, 2)
        return [self._result(plan, next(answers) if plan["request"] is not None else None, took) for plan in plans]

    def _plan(self, name: str, query: SearchQuery) -> dict[str, Any]:
        """The multi-search entry for one query, with what is needed to read its answer."""
        query.check_paging()
        filters = query.normalized_filters()
        plan: dict[str, Any] = {"query": query, "pk": None, "searchable": [], "request": None}
        if any(isinstance(v, list) and not v for v in filters.values()):
            return plan  # an empty accepted-values list matches nothing (same as the embedded backends)
        pk = plan["pk"] = self._primary_key(name)
        request: dict[str, Any] = {
            "indexUid": self.uid(name),
            "q": query.q or "",
            "page": query.page,
            "hitsPerPage": query.per_page,
            "matchingStrategy": "all",  # every query word must match, as in the embedded backends
        }
        if filters:
            request["filter"] = meili_filter(filters)
        if query.facets:
            request["facets"] = list(query.facets)
        if query.sort:
            query.parsed_sort()  # validates
            request["sort"] = list(query.sort)
        searchable = plan["searchable"] = (self._searchable_fields(name) if query.highlight and query.q.strip()
                                           else [])
        if query.retrieve is not None:
            # Pages load their rows by id: sending whole documents (long bodies) costs more than the search.
            request["attributesToRetrieve"] = list(dict.fromkeys([pk, *query.retrieve]))
        if searchable:
            request.update({
                "attributesToHighlight": searchable,
                "attributesToCrop": searchable,
                "cropLength": query.crop_length,
                "highlightPreTag": PRE_TAG,
                "highlightPostTag": POST_TAG,
            })
        plan["request"] = request
        return plan

    def _result(self, plan: dict[str, Any], raw: dict | None, took_ms: float) -> SearchResult:
        query, pk, searchable = plan["query"], plan["pk"], plan["searchable"]
        if raw is None:
            return SearchResult([], 0, {f: {} for f in query.facets}, query.page, query.per_page, 0.0, self.kind)
        hits = []
        for item in raw.get("hits", []):
            formatted = item.pop("_formatted", None) or {}
            document = {k: v for k, v in item.items() if not k.startswith("_")}
            hits.append(Hit(id=str(document.get(pk)), document=document,
                            highlights=_highlights(formatted, searchable)))
        distribution = raw.get("facetDistribution") or {}
        facets = {
            field: dict(sorted(((str(k), v) for k, v in (distribution.get(field) or {}).items()),
                               key=lambda kv: (-kv[1], kv[0])))
            for field in query.facets
        }
        return SearchResult(
            hits=hits,
            total=int(raw.get("totalHits", raw.get("estimatedTotalHits", len(hits)))),
            facets=facets,
            page=query.page,
            per_page=query.per_page,
            took_ms=took_ms,
            backend=self.kind,
        )

    def suggest(self, name: str, prefix: str, limit: int = 8,
                filters: Mapping[str, FilterValue] | None = None) -> list[str]:
        """Titles matching the typed prefix (Meilisearch prefix search on the title fields)."""
        typed = normalize(prefix).strip()
        if not typed or limit <= 0:
            return []
        spec = self._specs.get(name)
        fields = list(spec.suggest_fields) if spec else [f for f in self._searchable_fields(name)
                                                          if f.startswith("title")]
        params: dict[str, Any] = {"limit": limit * 5, "attributesToRetrieve": fields,
                                  "attributesToSearchOn": fields}
        normalized = SearchQuery(filters=filters or {}).normalized_filters()
        if normalized:
            params["filter"] = meili_filter(normalized)
        raw = self._call(lambda: self.client.index(self.uid(name)).search(prefix, params))
        return rank_suggestions(raw.get("hits", []), fields, typed, limit)

    def reindex(self, spec: IndexSpec, docs: Iterable[Mapping[str, Any]]) -> int:
        """Fill `<uid>__rebuild`, then swap it with the live index (atomic in Meilisearch)
        and delete the old content."""
        live, shadow = self.uid(spec.name), self.uid(spec.name) + "__rebuild"
        if self._index_exists(shadow):
            self._wait(self._call(lambda: self.client.delete_index(shadow)).task_uid)
        self._apply_settings(shadow, spec)
        written = self._upload(shadow, spec.primary_key, docs)
        self._apply_settings(live, spec)  # swap needs both indexes to exist
        task = self._call(lambda: self.client.swap_indexes([{"indexes": [live, shadow]}]))
        self._wait(task.task_uid)
        self._wait(self._call(lambda: self.client.delete_index(shadow)).task_uid)
        self._specs[spec.name] = spec
        return written

    def count(self, name: str) -> int:
        stats = self._call(lambda: self.client.http.get(f"indexes/{self.uid(name)}/stats"))
        return int(stats["numberOfDocuments"])

    def all_ids(self, name: str) -> set[str]:
        pk = self._primary_key(name)
        ids: set[str] = set()
        offset, page = 0, 1000
        while True:
            path = f"indexes/{self.uid(name)}/documents?fields={pk}&limit={page}&offset={offset}"
            batch = self._call(lambda path=path: self.client.http.get(path))
            ids.update(str(doc[pk]) for doc in batch["results"])
            offset += page
            if offset >= batch["total"] or not batch["results"]:
                return ids

    def drop_index(self, name: str) -> None:
        try:
            self._wait(self._call(lambda: self.client.delete_index(self.uid(name))).task_uid)
        except SearchError as exc:
            if "index_not_found" not in str(exc):
                raise
        self._specs.pop(name, None)

    def ping(self) -> bool:
        """One GET /health, without retries: a probe must answer at once."""
        try:
            return self.client.health().get("status") == "available"
        except Exception:  # noqa: BLE001 (a probe reports, never raises)
            return False

    def health(self) -> dict:
        try:
            status = self._call(lambda: self.client.health())
            version = self._call(lambda: self.client.get_version())
            stats = self._call(lambda: self.client.http.get("stats"))
            indexes = {
                uid[len(self.index_prefix):]: info.get("numberOfDocuments")
                for uid, info in (stats.get("indexes") or {}).items()
                if uid.startswith(self.index_prefix)
            }
            return {"ok": status.get("status") == "available", "backend": self.kind, "url": self.url,
                    "version": version.get("pkgVersion"), "indexes": indexes}
        except Exception as exc:  # noqa: BLE001 (health must never raise)
            return {"ok": False, "backend": self.kind, "url": self.url, "error": str(exc)}


def _highlights(formatted: Mapping[str, Any], fields: Iterable[str]) -> dict[str, str]:
    out = {}
    for name in fields:
        value = formatted.get(name)
        items = value if isinstance(value, list) else [value]
        marked = [escape_with_sentinels(str(v), PRE_TAG, POST_TAG) for v in items
                  if isinstance(v, (str, int, float)) and PRE_TAG in str(v)]
        if marked:
            out[name] = ", ".join(marked)
    return out


def _settings_equal(key: str, current: Any, wanted: Any) -> bool:
    """Does the server's current value of setting `key` already match what we want?"""
    if key in ("filterableAttributes", "sortableAttributes"):
        return sorted(map(str, current or [])) == sorted(wanted)
    if key == "synonyms":
        return {k: sorted(v) for k, v in (current or {}).items()} == {k: sorted(v) for k, v in wanted.items()}
    return _contains(current, wanted)


def _contains(current: Any, wanted: Any) -> bool:
    # Nested dicts: only compare the keys we set (the server adds defaults for the rest).
    if isinstance(wanted, dict) and isinstance(current, dict):
        return all(_contains(current.get(k), v) for k, v in wanted.items())
    return current == wanted

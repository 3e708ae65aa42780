"""Backend interface, value types and errors of the search library.

Everything a caller needs to talk to any backend lives here; the backends
(`sqlite_backend`, `postgres_backend`, `meili_backend`) implement `SearchBackend`
and return the same `SearchResult` shape.
"""
from __future__ import annotations

import abc
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# --------------------------------------------------------------------------- errors


class SearchError(Exception):
    """A search operation failed (bad query, invalid document, failed index task...)."""


class SearchUnavailable(SearchError):
    """The search service cannot be reached or did not answer in time.

    The operation may be retried later; for writes nothing is known to be applied.
    """


class SearchTimeout(SearchUnavailable):
    """An index task was accepted but not confirmed within the timeout (it may still succeed)."""


# --------------------------------------------------------------------------- values

Scalar = str | int | float | bool
DocValue = Scalar | list
Document = dict  # flat dict: {"id": "42", "title_zh": "...", "tags": ["a", "b"], "trl": 5}

# Meilisearch only accepts these characters in primary keys; we enforce it for every
# backend so that switching backends never rejects documents.
DOC_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,511}$")
INDEX_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
FIELD_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
RANGE_OPERATORS = ("gt", "gte", "lt", "lte")


@dataclass(frozen=True)
class IndexSpec:
    """Declares an index: which fields are searched, filtered, faceted and sorted.

    `searchable` is ordered by importance (earlier fields rank higher).
    `facets` defaults to `filterable`. `suggest_fields` (titles shown while typing)
    defaults to the searchable fields whose name starts with "title", else the first one.
    `localized` maps a locale to attribute patterns, e.g. {"cmn": ["*_zh"], "eng": ["*_en"]}.
    `synonyms` maps a term to its equivalents; groups are treated as mutual
    (核酸检测 -> [PCR] also makes PCR -> 核酸检测).
    """

    name: str
    primary_key: str = "id"
    searchable: Sequence[str] = ()
    filterable: Sequence[str] = ()
    sortable: Sequence[str] = ()
    facets: Sequence[str] | None = None
    localized: Mapping[str, Sequence[str]] = field(default_factory=dict)
    synonyms: Mapping[str, Sequence[str]] = field(default_factory=dict)
    suggest_fields: Sequence[str] | None = None
    ranking_rules: Sequence[str] | None = None  # Meilisearch only; see meili_backend

    def __post_init__(self) -> None:
        if not INDEX_NAME_RE.match(self.name):
            raise SearchError(f"invalid index name {self.name!r} (want {INDEX_NAME_RE.pattern})")
        for attr in ("searchable", "filterable", "sortable"):
            object.__setattr__(self, attr, tuple(getattr(self, attr)))
        if not self.searchable:
            raise SearchError("IndexSpec.searchable must name at least one field")
        facets = tuple(self.filterable if self.facets is None else self.facets)
        object.__setattr__(self, "facets", facets)
        for name in (self.primary_key, *self.searchable, *self.filterable, *self.sortable, *facets):
            if not FIELD_NAME_RE.match(name):
                raise SearchError(f"invalid field name {name!r}")
        if not set(facets) <= set(self.filterable):
            raise SearchError("every facet must also be filterable")
        suggest = self.suggest_fields
        if suggest is None:
            suggest = [f for f in self.searchable if f.startswith("title")] or [self.searchable[0]]
        object.__setattr__(self, "suggest_fields", tuple(suggest))
        if self.ranking_rules is not None:
            object.__setattr__(self, "ranking_rules", tuple(self.ranking_rules))
        object.__setattr__(self, "localized", {k: tuple(v) for k, v in dict(self.localized).items()})
        object.__setattr__(self, "synonyms", {k: tuple(v) for k, v in dict(self.synonyms).items()})

    def synonym_groups(self) -> list[list[str]]:
        """Mutual synonym groups (union of every key with its values, overlapping groups merged)."""
        groups: list[set[str]] = []
        for key, values in self.synonyms.items():
            new = {key, *values}
            for existing in [g for g in groups if g & new]:
                new |= existing
                groups.remove(existing)
            groups.append(new)
        return [sorted(g) for g in groups]

    def to_dict(self) -> dict:
        """JSON-serialisable form (stored by the embedded backends)."""
        return {
            "name": self.name,
            "primary_key": self.primary_key,
            "searchable": list(self.searchable),
            "filterable": list(self.filterable),
            "sortable": list(self.sortable),
            "facets": list(self.facets or ()),
            "localized": {k: list(v) for k, v in self.localized.items()},
            "synonyms": {k: list(v) for k, v in self.synonyms.items()},
            "suggest_fields": list(self.suggest_fields or ()),
            "ranking_rules": list(self.ranking_rules) if self.ranking_rules else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IndexSpec:
        return cls(**dict(data))


RangeFilter = Mapping[str, float]  # {"gte": 5, "lt": 9}
FilterValue = Sequence[Scalar] | RangeFilter | Scalar


@dataclass
class SearchQuery:
    """A search request.

    q: free text; empty means *browse* (all documents matching the filters).
    filters: field -> list of accepted values (OR within a field, AND across fields; a
        list-valued document field matches when any element is accepted), or a numeric
        range {"gte": 5, "lt": 9}. A bare scalar is treated as a one-element list.
    facets: fields whose value counts (over all matching documents) are returned.
    sort: ["published_at:desc", "title_en:asc"]; when given it is the primary order and
        relevance only breaks ties. Documents missing the field come last.
    page / per_page: 1-based pagination.
    highlight: return `Hit.highlights` (HTML-escaped text with <mark> around matches).
    crop_length: long highlighted fields are cropped to about this many words around the
        first match.
    retrieve: the document fields the caller reads from `Hit.document` (None: all). The
        primary key always comes; a backend may leave out the other fields (Meilisearch
        sends only these), so a caller that loads its rows by id asks for none: `()`.
    """

    q: str = ""
    filters: Mapping[str, FilterValue] = field(default_factory=dict)
    facets: Sequence[str] = ()
    sort: Sequence[str] = ()
    page: int = 1
    per_page: int = 20
    highlight: bool = False
    crop_length: int = 30
    retrieve: Sequence[str] | None = None

    def normalized_filters(self) -> dict[str, list | dict]:
        """Filters with scalars wrapped in lists and ranges validated."""
        out: dict[str, list | dict] = {}
        for name, value in (self.filters or {}).items():
            if not FIELD_NAME_RE.match(name):
                raise SearchError(f"invalid filter field {name!r}")
            if isinstance(value, Mapping):
                bad = set(value) - set(RANGE_OPERATORS)
                if bad or not value:
                    raise SearchError(f"range filter on {name!r} accepts only {RANGE_OPERATORS}")
                for bound in value.values():
                    if isinstance(bound, bool) or not isinstance(bound, (int, float)):
                        raise SearchError(f"range bound for {name!r} must be a number")
                out[name] = dict(value)
            elif isinstance(value, (list, tuple, set, frozenset)):
                out[name] = list(value)
            else:
                out[name] = [value]
        return out

    def parsed_sort(self) -> list[tuple[str, bool]]:
        """[(field, descending)]."""
        parsed = []
        for item in self.sort or ():
            name, _, direction = item.partition(":")
            direction = direction or "asc"
            if direction not in ("asc", "desc") or not FIELD_NAME_RE.match(name):
                raise SearchError(f"invalid sort {item!r} (want 'field:asc' or 'field:desc')")
            parsed.append((name, direction == "desc"))
        return parsed

    def check_paging(self) -> None:
        if self.page < 1 or not 1 <= self.per_page <= 1000:
            raise SearchError("page must be >= 1 and per_page within 1..1000")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass
class Hit:
    """One result. `highlights` maps a searchable field that matched the query to safe HTML."""

    id: str
    document: dict
    highlights: dict[str, str] = field(default_factory=dict)


@dataclass
class SearchResult:
    """Same shape for every backend. `facets`: field -> {value: count} (values as strings)."""

    hits: list[Hit]
    total: int
    facets: dict[str, dict[str, int]]
    page: int
    per_page: int
    took_ms: float
    backend: str

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.per_page else 1

    @property
    def ids(self) -> list[str]:
        return [hit.id for hit in self.hits]


# --------------------------------------------------------------------------- validation helpers


def facet_key(value: Any) -> str:
    """Canonical string of a facet/filter value (5 and 5.0 -> "5", True -> "true")."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


LONE_SURROGATE_RE = re.compile("[\ud800-\udfff]")  # half of a UTF-16 pair: no UTF-8 encoding exists


def check_documents(spec_or_pk: IndexSpec | str, docs: Iterable[Mapping[str, Any]]) -> list[dict]:
    """Validate documents (string id of allowed characters, flat values) and return them as dicts."""
    pk = spec_or_pk.primary_key if isinstance(spec_or_pk, IndexSpec) else spec_or_pk
    checked = []
    for doc in docs:
        doc = dict(doc)
        doc_id = doc.get(pk)
        if isinstance(doc_id, int) and not isinstance(doc_id, bool):
            doc_id = doc[pk] = str(doc_id)
        if not isinstance(doc_id, str) or not DOC_ID_RE.match(doc_id):
            raise SearchError(f"document {pk}={doc_id!r} must be a string of [A-Za-z0-9_-]")
        for key, value in doc.items():
            if isinstance(value, (list, tuple)):
                if any(isinstance(v, (dict, list, tuple)) for v in value):
                    raise SearchError(f"field {key!r} of document {doc_id}: nested values are not supported")
                doc[key] = list(value)
            elif value is not None and not isinstance(value, (str, int, float, bool)):
                raise SearchError(f"field {key!r} of document {doc_id}: unsupported type {type(value).__name__}")
            if any(isinstance(v, str) and LONE_SURROGATE_RE.search(v) for v in
                   (doc[key] if isinstance(doc[key], list) else [doc[key]])):
                raise SearchError(f"field {key!r} of document {doc_id}: lone surrogate (not valid Unicode text)")
        checked.append(doc)
    return checked


def check_query_against_spec(spec: IndexSpec, query: SearchQuery) -> None:
    """Reject filters/facets/sorts on undeclared fields (Meilisearch would reject them too)."""
    query.check_paging()
    for name in query.normalized_filters():
        if name not in spec.filterable:
            raise SearchError(f"field {name!r} is not filterable in index {spec.name!r}")
    for name in query.facets or ():
        if name not in spec.facets:
            raise SearchError(f"field {name!r} is not a facet of index {spec.name!r}")
    for name, _ in query.parsed_sort():
        if name not in spec.sortable:
            raise SearchError(f"field {name!r} is not sortable in index {spec.name!r}")


# --------------------------------------------------------------------------- interface


class SearchBackend(abc.ABC):
    """What every backend offers. All index names are *logical* (spec.name); the backend
    applies its `index_prefix` itself."""

    kind: str = "abstract"  # "sqlite" | "postgres" | "meilisearch"

    @abc.abstractmethod
    def ensure_index(self, spec: IndexSpec) -> None:
        """Create the index or update its settings to match `spec` (idempotent)."""

    @abc.abstractmethod
    def upsert(self, name: str, docs: Iterable[Mapping[str, Any]]) -> int:
        """Add or replace documents by primary key; returns once the write is confirmed.

        Returns the number of documents written. Raises SearchUnavailable / SearchError.
        """

    @abc.abstractmethod
    def delete(self, name: str, ids: Iterable[str]) -> int:
        """Delete documents by id (unknown ids are ignored); returns once confirmed."""

    @abc.abstractmethod
    def search(self, name: str, query: SearchQuery) -> SearchResult:
        """Run a query (see SearchQuery for the semantics)."""

    def search_many(self, searches: Sequence[tuple[str, SearchQuery]]) -> list[SearchResult]:
        """Run several queries, each on its own index, and return their results in the same order.

        Same answers as one `search` per query; Meilisearch sends them in one request (a page and
        the counts of its other tabs). The embedded backends run them one after the other.
        """
        return [self.search(name, query) for name, query in searches]

    @abc.abstractmethod
    def suggest(self, name: str, prefix: str, limit: int = 8,
                filters: Mapping[str, FilterValue] | None = None) -> list[str]:
        """Titles (spec.suggest_fields) matching what the user typed so far.

        Pass the same visibility `filters` as for search, or private titles leak.
        """

    @abc.abstractmethod
    def reindex(self, spec: IndexSpec, docs: Iterable[Mapping[str, Any]]) -> int:
        """Rebuild the index from `docs` in a shadow copy and swap it in atomically.

        The live index keeps serving the old content until the swap. Returns the count.
        """

    @abc.abstractmethod
    def count(self, name: str) -> int:
        """Number of documents in the index."""

    @abc.abstractmethod
    def all_ids(self, name: str) -> set[str]:
        """Every document id in the index (for consistency checks against the database)."""

    @abc.abstractmethod
    def drop_index(self, name: str) -> None:
        """Remove the index and its data (missing index is not an error)."""

    @abc.abstractmethod
    def health(self) -> dict:
        """{"ok": bool, "backend": kind, ...details}; never raises."""

    def ping(self) -> bool:
        """Whether the backend answers now: the cheapest round trip it has (readiness probes); never raises."""
        try:
            return bool(self.health().get("ok"))
        except Exception:  # noqa: BLE001 (a probe reports, never raises)
            return False

    def close(self) -> None:
        """Release resources (no-op by default)."""

"""The site-wide search across offers, needs and organisations."""
from __future__ import annotations

from dataclasses import dataclass, field

from marketplace import search_index
from marketplace.queries.hits import rows_for_hits
from search import SearchQuery, SearchResult

# Per scope: the facets shown and the filters always applied.
SCOPES = {
    "offers": (["kind", "direction", "regulatory"], {"status": ["published"]}),
    "needs": (["kind", "direction", "urgency"], {"status": ["open", "matched"]}),
    "organizations": (["kind", "sub_park"], {}),
}


@dataclass
class SiteSearch:
    """One page of one scope (``rows`` are ``(row, highlights)``) and the totals of every scope."""

    result: SearchResult
    rows: list[tuple] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def search_site(viewer, scope: str, *, q: str, filters: dict[str, list[str]], page: int,
                per_page: int) -> SiteSearch:
    """Search ``scope`` for ``q`` with the chosen facet ``filters``; raises the search library's errors."""
    facets, base_filters = SCOPES[scope]
    wanted = dict(base_filters)
    wanted.update({name: values for name, values in filters.items() if name in facets and values})
    # The page's own scope and the totals of the other tabs in one round trip; only ids come back, as the rows
    # are loaded from the database.
    searches = [(scope, SearchQuery(q=q, filters=wanted, facets=facets, page=page, per_page=per_page,
                                    highlight=bool(q), retrieve=()))]
    others = [other for other in SCOPES if other != scope]
    searches += [(other, SearchQuery(q=q, filters=dict(SCOPES[other][1]), per_page=1, retrieve=()))
                 for other in others]
    result, *other_results = search_index.search_many(searches, viewer)
    totals = {scope: result.total, **{other: found.total for other, found in zip(others, other_results)}}
    counts = {name: totals[name] for name in SCOPES}
    return SiteSearch(result, rows_for_hits(viewer, scope, result.hits, lean=True), counts)

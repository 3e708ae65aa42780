"""Small CLI for operators and debugging.

    python -m search health  [--meili-url URL [--meili-key KEY] | --db DATABASE_URL] [--prefix tb_]
    python -m search query   --index offers [--filter kind=product,technology] [--facet kind]
                             [--sort published_at:desc] [--page 1] [--per-page 20] [--json] "核酸"
    python -m search suggest --index offers "呼吸"
    python -m search count   --index offers

Connection defaults come from $MEILI_URL, $MEILI_KEY (or $MEILI_MASTER_KEY) and $DATABASE_URL.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from .base import SearchError, SearchQuery
from .factory import create_backend


def _parse_filters(items: list[str]) -> dict:
    filters: dict = {}
    for item in items:
        name, sep, values = item.partition("=")
        if not sep:
            raise SystemExit(f"--filter expects field=value[,value]: {item!r}")
        filters.setdefault(name, []).extend(v for v in values.split(",") if v)
    return filters


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m search", description="TechBridge search tools")
    parser.add_argument("--meili-url", default=os.environ.get("MEILI_URL"))
    parser.add_argument("--meili-key", default=os.environ.get("MEILI_KEY") or os.environ.get("MEILI_MASTER_KEY"))
    parser.add_argument("--db", default=os.environ.get("DATABASE_URL"), help="SQLAlchemy URL (embedded backend)")
    parser.add_argument("--prefix", default="", help="index prefix (e.g. tb_)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("health", help="backend status as JSON")
    query = commands.add_parser("query", help="run a search")
    query.add_argument("q", nargs="?", default="")
    query.add_argument("--index", required=True)
    query.add_argument("--filter", action="append", default=[], metavar="FIELD=V1,V2")
    query.add_argument("--facet", action="append", default=[])
    query.add_argument("--sort", action="append", default=[])
    query.add_argument("--page", type=int, default=1)
    query.add_argument("--per-page", type=int, default=10)
    query.add_argument("--json", action="store_true", help="print the whole result as JSON")
    suggest = commands.add_parser("suggest", help="title suggestions for a prefix")
    suggest.add_argument("prefix")
    suggest.add_argument("--index", required=True)
    suggest.add_argument("--limit", type=int, default=8)
    count = commands.add_parser("count", help="number of documents")
    count.add_argument("--index", required=True)
    args = parser.parse_args(argv)

    if not args.meili_url and not args.db:
        parser.error("give --meili-url or --db (or set MEILI_URL / DATABASE_URL)")
    backend = create_backend(meili_url=args.meili_url, meili_key=args.meili_key,
                             database_url=None if args.meili_url else args.db, index_prefix=args.prefix)
    try:
        if args.command == "health":
            status = backend.health()
            print(json.dumps(status, ensure_ascii=False, indent=2))
            return 0 if status.get("ok") else 1
        if args.command == "count":
            print(backend.count(args.index))
            return 0
        if args.command == "suggest":
            for title in backend.suggest(args.index, args.prefix, limit=args.limit):
                print(title)
            return 0
        result = backend.search(args.index, SearchQuery(
            q=args.q, filters=_parse_filters(args.filter), facets=args.facet, sort=args.sort,
            page=args.page, per_page=args.per_page, highlight=True))
        if args.json:
            print(json.dumps({
                "total": result.total, "page": result.page, "per_page": result.per_page,
                "took_ms": result.took_ms, "backend": result.backend, "facets": result.facets,
                "hits": [{"id": h.id, "highlights": h.highlights, "document": h.document} for h in result.hits],
            }, ensure_ascii=False, indent=2))
            return 0
        print(f"{result.total} hits ({result.backend}, {result.took_ms} ms)")
        for hit in result.hits:
            title = hit.document.get("title_zh") or hit.document.get("title_en") or ""
            print(f"  {hit.id}\t{title}")
        for name, counts in result.facets.items():
            print(f"  [{name}] " + ", ".join(f"{k}: {v}" for k, v in counts.items()))
        return 0
    except SearchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        backend.close()


if __name__ == "__main__":
    sys.exit(main())

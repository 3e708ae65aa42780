"""Table layout of one generation of an embedded index, and how a document becomes its rows."""
from __future__ import annotations

import json
from typing import Any

from ..base import IndexSpec, SearchError, facet_key
from ..text import flatten_text, normalize

MAX_RANK_FIELDS = 4  # searchable fields copied into their own column for scoring


class Layout:
    """Physical table names and derived columns of one generation of an index."""

    def __init__(self, physical: str, generation: str, spec: IndexSpec) -> None:
        self.physical = physical
        self.generation = generation
        self.spec = spec
        base = f"search_{physical}_{generation}"
        if len(base) + len("_fields") > 63:  # PostgreSQL identifier limit
            raise SearchError(f"index name too long: {physical!r}")
        self.docs = f"{base}_docs"
        self.fields = f"{base}_fields"
        self.vocab = f"{base}_vocab"
        self.fts = f"{base}_fts"
        self.base = base
        ordered = list(dict.fromkeys([*spec.suggest_fields, *spec.searchable]))
        self.rank_fields = ordered[:MAX_RANK_FIELDS]
        self.rank_columns = [f"r{i}" for i in range(len(self.rank_fields))]
        self.sort_columns = {name: (f"s{i}_num", f"s{i}_str") for i, name in enumerate(spec.sortable)}
        self.value_fields = list(dict.fromkeys([*spec.filterable, *spec.facets]))

    def tables(self) -> list[str]:
        return [self.docs, self.fields, self.vocab]

    # ---- document -> rows

    def doc_row(self, doc: dict) -> dict:
        spec = self.spec
        row: dict[str, Any] = {
            "id": doc[spec.primary_key],
            "doc": json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
            "search_text": "\n".join(normalize(flatten_text(doc.get(f))) for f in spec.searchable),
        }
        for column, name in zip(self.rank_columns, self.rank_fields):
            row[column] = normalize(flatten_text(doc.get(name)))
        for name, (num_col, str_col) in self.sort_columns.items():
            value = doc.get(name)
            if isinstance(value, list):
                value = value[0] if value else None
            row[num_col] = row[str_col] = None
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                row[num_col] = float(value)
            elif value is not None:
                row[str_col] = normalize(facet_key(value))
        return row

    def value_rows(self, seq: int, doc: dict) -> list[dict]:
        rows = []
        for name in self.value_fields:
            value = doc.get(name)
            values = value if isinstance(value, list) else [value]
            seen = set()
            for item in values:
                if item is None:
                    continue
                key = facet_key(item)
                if key in seen:
                    continue
                seen.add(key)
                num = float(item) if isinstance(item, (int, float)) and not isinstance(item, bool) else None
                rows.append({"seq": seq, "field": name, "str_value": key, "num_value": num})
        return rows

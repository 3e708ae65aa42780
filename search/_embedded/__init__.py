"""Shared machinery of the embedded (SQL) backends.

Storage, per logical index and *generation* (a reindex builds a new generation and flips a
pointer, so readers never see a half-built index):

    search_indexes                   registry: physical name -> generation, spec (JSON)
    search_<index>_<gen>_docs        one row per document: id, JSON, normalised text columns
    search_<index>_<gen>_fields      (seq, field, str_value, num_value) per filter/facet value
    search_<index>_<gen>_vocab       latin words (for typo correction)
    (+ dialect extras, e.g. the SQLite FTS5 trigram table search_<index>_<gen>_fts, the PostgreSQL
     narrow text table search_<index>_<gen>_text under the trigram index)

Matching: every query term group must occur as a substring of the normalised text of the
document (NFKC + casefold); the dialect decides how that is accelerated.

Modules: ``storage`` (connection, registry of generations, dialect hooks), ``indexing`` (writes),
``querying`` (reads), ``layout`` (the tables of one generation), ``sql`` (SQL text helpers) and
``results`` (highlights, suggestions); ``backend`` assembles ``EmbeddedBackend`` from them.
"""
from .backend import EmbeddedBackend
from .indexing import BATCH_SIZE, BULK_WRITE
from .layout import MAX_RANK_FIELDS, Layout
from .querying import CHARS_PER_WORD, MAX_FACET_VALUES
from .results import highlight_document, rank_suggestions
from .sql import SqlParams, like_pattern
from .storage import REGISTRY_TABLE

__all__ = [
    "BATCH_SIZE",
    "BULK_WRITE",
    "CHARS_PER_WORD",
    "MAX_FACET_VALUES",
    "MAX_RANK_FIELDS",
    "REGISTRY_TABLE",
    "EmbeddedBackend",
    "Layout",
    "SqlParams",
    "highlight_document",
    "like_pattern",
    "rank_suggestions",
]

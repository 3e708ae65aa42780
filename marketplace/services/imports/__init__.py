"""Bulk import of offers, needs and patents from Excel (.xlsx) and CSV files.

Every row goes through the same service functions as the web forms (``offers.create_offer`` /
``update_offer``, ``needs.create_need`` / ``update_need``, hence ``clean_offer`` / ``clean_need``), all rows in
one transaction: when any row fails, ``ImportRejected`` lists every problem by spreadsheet row and column and
the caller's unit of work rolls everything back. Re-importing a file updates the records it created before
(matched by ``import_key``; patents also by application number) instead of adding duplicates.

Modules: ``columns`` (template columns per entity, human headers, coded values and their labels), ``safe_read``
(checking and streaming untrusted .xlsx / .csv bytes within ``ReadLimits``), ``files`` (templates, reading uploads
into a table), ``table`` (rows read and the problems found), ``rows`` (applying rows to records, with bulk
lookups) and ``runs`` (an upload as a queued job run, one per submission); ``import_file`` chains reading and
applying in the caller's transaction.
"""
from __future__ import annotations

from marketplace.services.imports.columns import (
    COLUMNS_BY_ENTITY,
    IMPORT_ENTITIES,
    NEED_COLUMNS,
    OFFER_COLUMNS,
    PATENT_COLUMNS,
    REQUIRED_HEADERS,
    ImportColumn,
    column_labels,
    columns_for,
)
from marketplace.services.imports.files import (
    DATA_SHEET,
    EXAMPLE_SHEET,
    IMPORT_FORMATS,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    file_format_of,
    read_table,
    template_csv,
    template_xlsx,
)
from marketplace.services.imports.rows import (
    OFFER_IMPORT_KINDS,
    ImportResult,
    default_organization_for,
    import_key_for,
    import_table,
)
from marketplace.services.imports.runs import IMPORT_JOB, start_import
from marketplace.services.imports.safe_read import ReadLimits
from marketplace.services.imports.table import ImportRejected, ImportTable, ImportTimedOut, RowError

__all__ = [
    "COLUMNS_BY_ENTITY",
    "DATA_SHEET",
    "EXAMPLE_SHEET",
    "IMPORT_ENTITIES",
    "IMPORT_FORMATS",
    "IMPORT_JOB",
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_ROWS",
    "NEED_COLUMNS",
    "OFFER_COLUMNS",
    "OFFER_IMPORT_KINDS",
    "PATENT_COLUMNS",
    "REQUIRED_HEADERS",
    "ImportColumn",
    "ImportRejected",
    "ImportResult",
    "ImportTable",
    "ImportTimedOut",
    "ReadLimits",
    "RowError",
    "column_labels",
    "columns_for",
    "default_organization_for",
    "file_format_of",
    "import_file",
    "import_key_for",
    "import_table",
    "read_table",
    "start_import",
    "template_csv",
    "template_xlsx",
]


def import_file(user, entity: str, filename: str, content: bytes, *, organization_id: int | None = None,
                weights: dict | None = None, max_bytes: int = MAX_IMPORT_BYTES,
                max_rows: int = MAX_IMPORT_ROWS, limits: ReadLimits | None = None) -> ImportResult:
    """Read an uploaded .xlsx or .csv file and import its rows (see ``read_table`` and ``import_table``)."""
    table = read_table(entity, filename, content, max_bytes=max_bytes, max_rows=max_rows, limits=limits)
    return import_table(user, entity, table, organization_id=organization_id, weights=weights)

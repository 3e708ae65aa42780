"""Import files: the downloadable .xlsx / .csv templates, and reading an uploaded file into an
``ImportTable`` (format, size and header checks)."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime

from flask_babel import lazy_gettext as _l

from marketplace.services.errors import ValidationFailed
from marketplace.services.exports import neutralise_formula
from marketplace.services.imports.columns import (
    REQUIRED_HEADERS,
    ImportColumn,
    code_aliases,
    code_choices,
    columns_for,
    header_aliases,
)
from marketplace.services.imports.safe_read import DATA_SHEET, ReadLimits, read_csv_rows, read_xlsx_rows
from marketplace.services.imports.table import ImportRejected, ImportTable, RowError

IMPORT_FORMATS = ("xlsx", "csv")
_LIST_SEPARATORS = re.compile("[,，;；、\n]")
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 2000
EXAMPLE_SHEET = "example"


# --- templates ------------------------------------------------------------------------------------------

LISTS_SHEET = "lists"


def _labels_in(entity: str, column: ImportColumn) -> list[str]:
    from marketplace import vocabulary

    return [vocabulary.label(column.codes, code) for code in code_choices(entity, column)]


def _add_drop_downs(workbook, data, entity: str, columns: tuple[ImportColumn, ...], rows: int) -> None:
    """Drop-downs on coded columns listing the labels in the reader's language (kept on a hidden sheet: a
    list typed into the rule is limited to 255 characters and breaks on commas)."""
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    lists = workbook.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    list_column = 0
    for index, column in enumerate(columns, start=1):
        if not column.codes:
            continue
        list_column += 1
        labels = _labels_in(entity, column)
        letter = get_column_letter(list_column)
        for row, text in enumerate(labels, start=1):
            lists.cell(row=row, column=list_column, value=text)
        rule = DataValidation(type="list", formula1=f"{LISTS_SHEET}!${letter}$1:${letter}${len(labels)}",
                              allow_blank=True)
        if column.multiple:
            # several values are typed comma-separated, which a list rule would refuse: the list only suggests
            rule.showErrorMessage = False
            rule.promptTitle = column.label_zh[:32]
            rule.prompt = "可选一项，或输入多项并用逗号分隔 / Pick one, or type several separated by commas"
            rule.showInputMessage = True
        else:
            rule.showErrorMessage = True
            rule.errorTitle = column.label_zh[:32]
            rule.error = "请从下拉列表中选择 / Choose from the list"
        target = get_column_letter(index)
        rule.add(f"{target}3:{target}{rows + 2}")
        data.add_data_validation(rule)


def template_xlsx(entity: str, locale: str = "zh", rows: int = MAX_IMPORT_ROWS) -> bytes:
    """An .xlsx template: sheet 'data' with the headers in ``locale``, the bilingual description row and
    drop-downs (labels, not codes) on coded columns, and sheet 'example' with one filled-in example row."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    columns = columns_for(entity)
    workbook = Workbook()
    data = workbook.active
    data.title = DATA_SHEET
    example = workbook.create_sheet(EXAMPLE_SHEET)
    headers = [c.label(locale) for c in columns]
    for sheet in (data, example):
        sheet.append(headers)
        sheet.append([c.description for c in columns])
        for index, column in enumerate(columns, start=1):
            sheet.cell(row=1, column=index).font = Font(bold=True)
            sheet.cell(row=2, column=index).font = Font(italic=True, color="666666")
            sheet.cell(row=2, column=index).fill = PatternFill("solid", fgColor="EEEEEE")
            width = max(14, min(40, len(headers[index - 1]) * 2 + 4))
            sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = width
        sheet.freeze_panes = "A3"
    for index, column in enumerate(columns, start=1):
        data.cell(row=1, column=index).comment = Comment(column.description, "TechBridge")
    from marketplace import vocabulary
    example.append([neutralise_formula(_example_in(entity, c, locale, vocabulary)) for c in columns])
    _add_drop_downs(workbook, data, entity, columns, rows)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _example_in(entity: str, column: ImportColumn, locale: str, vocabulary):
    """The example value, with coded values shown as labels (as the drop-downs offer them)."""
    if not column.codes or not column.example:
        return column.example
    return ", ".join(vocabulary.label(column.codes, code.strip()) for code in str(column.example).split(","))


def template_csv(entity: str, locale: str = "zh") -> bytes:
    """A UTF-8 (with BOM, so Excel shows Chinese correctly) CSV template: header row in ``locale`` and the
    bilingual description row."""
    columns = columns_for(entity)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.label(locale) for c in columns])
    writer.writerow([c.description for c in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- reading files --------------------------------------------------------------------------------------

def _normalise_cell(value):
    """Cell values as the form services expect them: whole floats as int, datetimes as dates, text trimmed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, datetime):
        return value.date() if (value.hour, value.minute, value.second) == (0, 0, 0) else value
    if isinstance(value, str):
        return value.strip()
    return value


def _decode_codes(record: dict, coded: dict) -> None:
    """Labels chosen from the template's drop-downs (in either language) back to codes; anything unknown is
    left as typed, for the form service to report."""
    for key, (aliases, multiple) in coded.items():
        value = record.get(key)
        if not isinstance(value, str) or not value:
            continue
        if not multiple:
            record[key] = aliases.get(value.casefold(), value)
            continue
        parts = [p.strip() for p in _LIST_SEPARATORS.split(value)]
        record[key] = ", ".join(aliases.get(p.casefold(), p) for p in parts if p)


def file_format_of(filename: str) -> str:
    """'xlsx' or 'csv' from the file name; anything else is refused with a clear message."""
    name = (filename or "").strip().lower()
    for fmt in IMPORT_FORMATS:
        if name.endswith("." + fmt):
            return fmt
    if name.endswith(".xls"):
        raise ValidationFailed(_l("Old Excel files (.xls) are not supported; save the file as .xlsx and try again."))
    raise ValidationFailed(_l("Upload an Excel (.xlsx) or CSV (.csv) file."))


def read_table(entity: str, filename: str, content: bytes, *, max_bytes: int = MAX_IMPORT_BYTES,
               max_rows: int = MAX_IMPORT_ROWS, limits: ReadLimits | None = None) -> ImportTable:
    """Parse an uploaded file into rows keyed by column; refuses unknown formats, damaged or oversized files
    and unknown or missing columns. Skips blank rows and the template's description row."""
    columns = columns_for(entity)
    fmt = file_format_of(filename)
    limits = limits or ReadLimits(max_bytes=max_bytes, max_rows=max_rows)
    max_bytes, max_rows = limits.max_bytes, limits.max_rows
    if not content:
        raise ValidationFailed(_l("The file is empty."))
    if len(content) > max_bytes:
        raise ValidationFailed(_l("The file is larger than %(n)d MB; split it into smaller files.",
                                  n=max(1, max_bytes // (1024 * 1024))))
    try:
        raw_rows = read_xlsx_rows(content, limits) if fmt == "xlsx" else read_csv_rows(content, limits)
    except (zipfile.BadZipFile, UnicodeError) as exc:
        raise ValidationFailed(_l("The file is damaged and could not be read.")) from exc
    if not raw_rows:
        raise ValidationFailed(_l("The file is empty."))
    header_row, header_values = raw_rows[0]
    aliases = header_aliases(entity)
    headers: list[str] = []
    problems: list[RowError] = []
    for value in header_values:
        text = "" if value is None else str(value).strip().lstrip("\ufeff")
        key = aliases.get(text.casefold(), "") if text else ""
        if text and not key:
            problems.append(RowError(header_row, text, _l("Unknown column. Use the column headers of the template.")))
        if key and key in headers:
            problems.append(RowError(header_row, key, _l("This column appears twice.")))
        headers.append(key)
    for required in REQUIRED_HEADERS[entity]:
        if required not in headers:
            problems.append(RowError(header_row, required, _l("This column is missing.")))
    if "title_zh" not in headers and "title_en" not in headers:
        problems.append(RowError(header_row, "title_zh", _l("This column is missing.")))
    if problems:
        raise ImportRejected(_l("The header row does not match the template; nothing was imported."), problems)
    descriptions = {c.key: c.description for c in columns}
    coded = {c.key: (code_aliases(c), c.multiple) for c in columns if c.codes and c.key in headers}
    rows: list[tuple[int, dict]] = []
    for number, values in raw_rows[1:]:
        record = {key: _normalise_cell(value) for key, value in zip(headers, values) if key}
        if any(isinstance(v, str) and v == descriptions.get(k) for k, v in record.items()):
            continue  # the template's description row
        _decode_codes(record, coded)
        if all(v is None or v == "" for v in record.values()):
            continue
        rows.append((number, record))
    if len(rows) > max_rows:
        raise ValidationFailed(_l("The file has more than %(n)d rows; split it into smaller files.", n=max_rows))
    return ImportTable(headers=[h for h in headers if h], rows=rows)

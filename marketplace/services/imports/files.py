"""Import files: the downloadable .xlsx / .csv templates, and reading an uploaded file into an
``ImportTable`` (format, size and header checks)."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime

from flask_babel import lazy_gettext as _l

from marketplace.services.errors import ValidationFailed
from marketplace.services.exports import neutralise_formula
from marketplace.services.imports.columns import REQUIRED_HEADERS, columns_for
from marketplace.services.imports.table import ImportRejected, ImportTable, RowError

IMPORT_FORMATS = ("xlsx", "csv")
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 2000
DATA_SHEET = "data"
EXAMPLE_SHEET = "example"


# --- templates ------------------------------------------------------------------------------------------

def template_xlsx(entity: str) -> bytes:
    """An .xlsx template: sheet 'data' with the key row and the bilingual description row, and sheet
    'example' with the same headers and one filled-in example row."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    columns = columns_for(entity)
    workbook = Workbook()
    data = workbook.active
    data.title = DATA_SHEET
    example = workbook.create_sheet(EXAMPLE_SHEET)
    for sheet in (data, example):
        sheet.append([c.key for c in columns])
        sheet.append([c.description for c in columns])
        for index, column in enumerate(columns, start=1):
            sheet.cell(row=1, column=index).font = Font(bold=True)
            sheet.cell(row=2, column=index).font = Font(italic=True, color="666666")
            sheet.cell(row=2, column=index).fill = PatternFill("solid", fgColor="EEEEEE")
            sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = max(14, len(column.key) + 4)
        sheet.freeze_panes = "A3"
    for index, column in enumerate(columns, start=1):
        data.cell(row=1, column=index).comment = Comment(column.description, "TechBridge")
    example.append([neutralise_formula(c.example) for c in columns])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def template_csv(entity: str) -> bytes:
    """A UTF-8 (with BOM, so Excel shows Chinese correctly) CSV template: key row and description row."""
    columns = columns_for(entity)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.key for c in columns])
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


def _is_blank(values) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _read_xlsx_rows(content: bytes, max_rows: int) -> list[tuple[int, list]]:
    from openpyxl import load_workbook

    if not content.startswith(b"PK"):
        raise ValidationFailed(_l("The file is not a valid Excel (.xlsx) workbook."))
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # untrusted file: any parser failure means "unreadable", never a 500
        raise ValidationFailed(_l("The file is not a valid Excel (.xlsx) workbook.")) from exc
    try:
        sheet = workbook[DATA_SHEET] if DATA_SHEET in workbook.sheetnames else workbook.worksheets[0]
        rows: list[tuple[int, list]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if _is_blank(values):
                continue
            rows.append((number, list(values)))
            if len(rows) > max_rows + 2:
                break
        return rows
    except ValidationFailed:
        raise
    except Exception as exc:
        raise ValidationFailed(_l("The Excel file is damaged and could not be read.")) from exc
    finally:
        workbook.close()


def _decode_csv(content: bytes) -> str:
    if b"\x00" in content[:4096]:
        raise ValidationFailed(_l("The file is not a CSV text file."))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(_l("The CSV file must be encoded in UTF-8 or GBK."))


def _read_csv_rows(content: bytes, max_rows: int) -> list[tuple[int, list]]:
    text = _decode_csv(content)
    rows: list[tuple[int, list]] = []
    try:
        for number, values in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            if _is_blank(values):
                continue
            rows.append((number, values))
            if len(rows) > max_rows + 2:
                break
    except csv.Error as exc:
        raise ValidationFailed(_l("The CSV file is damaged and could not be read.")) from exc
    return rows


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
               max_rows: int = MAX_IMPORT_ROWS) -> ImportTable:
    """Parse an uploaded file into rows keyed by column; refuses unknown formats, damaged or oversized files
    and unknown or missing columns. Skips blank rows and the template's description row."""
    columns = columns_for(entity)
    fmt = file_format_of(filename)
    if not content:
        raise ValidationFailed(_l("The file is empty."))
    if len(content) > max_bytes:
        raise ValidationFailed(_l("The file is larger than %(n)d MB; split it into smaller files.",
                                  n=max(1, max_bytes // (1024 * 1024))))
    try:
        raw_rows = _read_xlsx_rows(content, max_rows) if fmt == "xlsx" else _read_csv_rows(content, max_rows)
    except (zipfile.BadZipFile, UnicodeError) as exc:
        raise ValidationFailed(_l("The file is damaged and could not be read.")) from exc
    if not raw_rows:
        raise ValidationFailed(_l("The file is empty."))
    header_row, header_values = raw_rows[0]
    aliases = {}
    for column in columns:
        for alias in (column.key, column.description, column.zh, column.en):
            aliases[alias.strip().casefold()] = column.key
    headers: list[str] = []
    problems: list[RowError] = []
    for value in header_values:
        text = "" if value is None else str(value).strip().lstrip("\ufeff")
        key = aliases.get(text.casefold(), "") if text else ""
        if text and not key:
            problems.append(RowError(header_row, text, _l("Unknown column. Use the column keys of the template.")))
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
    rows: list[tuple[int, dict]] = []
    for number, values in raw_rows[1:]:
        record = {key: _normalise_cell(value) for key, value in zip(headers, values) if key}
        if any(isinstance(v, str) and v == descriptions.get(k) for k, v in record.items()):
            continue  # the template's description row
        if _is_blank(record.values()):
            continue
        rows.append((number, record))
    if len(rows) > max_rows:
        raise ValidationFailed(_l("The file has more than %(n)d rows; split it into smaller files.", n=max_rows))
    return ImportTable(headers=[h for h in headers if h], rows=rows)

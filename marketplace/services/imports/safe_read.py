"""Reading untrusted upload bytes into raw rows without letting the file decide how much work that is.

A workbook is a zip of XML parts, and every number in it can lie: the sheet's dimension (``A1:XFD1048576`` in a
1.5 KB file), the count of shared strings, the sizes and compression ratios of the parts. So before openpyxl
sees the bytes, ``inspect_xlsx`` checks the zip's directory against ``ReadLimits``; the sheet is then streamed
(read-only mode, its dimension reset so empty cells are never padded in), and reading stops after a run of
blank rows or past the row limit. CSV text is decoded strictly (UTF-8 or GBK, no NUL, no lone surrogates)
with the same row, column and blank-row limits. Every refusal is a ``ValidationFailed`` in the user's language.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, fields, replace

from flask_babel import lazy_gettext as _l

from marketplace.services.errors import ValidationFailed

DATA_SHEET = "data"
_NESTED_SUFFIXES = (".zip", ".gz", ".7z", ".rar", ".tar", ".bz2", ".xz", ".jar", ".xlsx", ".xlsm", ".docx")
_REQUIRED_PARTS = ("[Content_Types].xml", "xl/workbook.xml")
_NOT_TEXT = re.compile("[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f]")  # lone surrogates, C0 controls
_SMALL_ENTRY_BYTES = 1024 * 1024  # below this a high compression ratio cannot hurt


_CONFIG_KEYS = {  # ReadLimits field -> configuration key
    "max_bytes": "IMPORT_MAX_BYTES", "max_rows": "IMPORT_MAX_ROWS", "max_columns": "IMPORT_MAX_COLUMNS",
    "max_zip_entries": "IMPORT_MAX_ZIP_ENTRIES", "max_entry_bytes": "IMPORT_MAX_ENTRY_BYTES",
    "max_uncompressed_bytes": "IMPORT_MAX_UNCOMPRESSED_BYTES",
    "max_compression_ratio": "IMPORT_MAX_COMPRESSION_RATIO", "max_shared_strings": "IMPORT_MAX_SHARED_STRINGS",
    "blank_rows_stop": "IMPORT_BLANK_ROWS_STOP", "max_cell_chars": "IMPORT_MAX_CELL_CHARS",
}


@dataclass(frozen=True)
class ReadLimits:
    """How much an import file may make the server do; defaults match ``config.BaseConfig``'s IMPORT_* keys."""

    max_bytes: int = 5 * 1024 * 1024
    max_rows: int = 2000
    max_columns: int = 200
    max_zip_entries: int = 200
    max_entry_bytes: int = 50 * 1024 * 1024
    max_uncompressed_bytes: int = 120 * 1024 * 1024
    max_compression_ratio: int = 200
    max_shared_strings: int = 200_000
    blank_rows_stop: int = 100
    max_cell_chars: int = 32767


    @classmethod
    def from_config(cls, config) -> ReadLimits:
        """Limits from a configuration mapping (the caller passes ``current_app.config``); missing keys keep
        the defaults."""
        values = {}
        for item in fields(cls):
            key = _CONFIG_KEYS.get(item.name)
            if key and config.get(key) is not None:
                values[item.name] = int(config[key])
        return cls(**values)

    @classmethod
    def for_entity(cls, config, entity: str) -> ReadLimits:
        """Limits for files of ``entity``: patent files may hold ``IMPORT_PATENT_MAX_ROWS`` rows and
        ``IMPORT_PATENT_MAX_BYTES`` bytes; every other limit is the common one."""
        limits = cls.from_config(config)
        if entity == "patents":
            overrides = {name: int(config[key]) for name, key in _PATENT_CONFIG_KEYS.items()
                         if config.get(key) is not None}
            limits = replace(limits, **overrides)
        return limits


_PATENT_CONFIG_KEYS = {"max_rows": "IMPORT_PATENT_MAX_ROWS", "max_bytes": "IMPORT_PATENT_MAX_BYTES"}


def _too_large(what=None) -> ValidationFailed:
    return ValidationFailed(what or _l("The workbook unpacks to far more data than a spreadsheet of this size "
                                       "should; it was not read. Save it again from Excel, or split it."))


def inspect_xlsx(content: bytes, limits: ReadLimits) -> None:
    """Check an .xlsx zip's directory before any part is parsed: entry count, each part's and the total
    uncompressed size, compression ratios, encryption, and names (absolute, ``..``, nested archives).

    ``zipfile`` never returns more bytes than an entry's declared size, so checking the declared sizes bounds
    what any later reader can inflate."""
    if not content.startswith(b"PK"):
        raise ValidationFailed(_l("The file is not a valid Excel (.xlsx) workbook."))
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise ValidationFailed(_l("The file is not a valid Excel (.xlsx) workbook.")) from exc
    if len(entries) > limits.max_zip_entries:
        raise ValidationFailed(_l("The workbook has too many parts (%(n)d); save it again as a plain .xlsx file.",
                                  n=len(entries)))
    names = set()
    total = 0
    for entry in entries:
        name = entry.filename
        lowered = name.lower()
        if (name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/") or "\x00" in name
                or lowered.endswith(_NESTED_SUFFIXES) or name in names):
            raise ValidationFailed(_l("The workbook contains unexpected embedded files; save it again as a plain "
                                      ".xlsx file without embedded objects."))
        names.add(name)
        if entry.flag_bits & 0x1:
            raise ValidationFailed(_l("The workbook is password-protected; remove the password and try again."))
        if entry.file_size > limits.max_entry_bytes:
            raise _too_large()
        total += entry.file_size
        if total > limits.max_uncompressed_bytes:
            raise _too_large()
        if entry.file_size > _SMALL_ENTRY_BYTES and entry.file_size > limits.max_compression_ratio * max(
                entry.compress_size, 1):
            raise _too_large()
    if not all(part in names for part in _REQUIRED_PARTS):
        raise ValidationFailed(_l("The file is not a valid Excel (.xlsx) workbook."))
    _check_shared_strings(archive, names, limits)


def _check_shared_strings(archive: zipfile.ZipFile, names: set, limits: ReadLimits) -> None:
    """openpyxl loads every shared string up front, so count them first and refuse a table far larger than any
    import could use. The table's part name comes from the workbook's relationships, which a hostile file may
    point anywhere, so every part but the sheets is counted (streaming, bounded by the checked sizes)."""
    count = 0
    for part in sorted(names):
        if part.lower().startswith("xl/worksheets/") or part.endswith("/"):
            continue
        tail = b""
        with archive.open(part) as stream:
            while chunk := stream.read(256 * 1024):
                data = tail + chunk
                count += data.count(b"<si>") + data.count(b"<si ") + data.count(b":si>") + data.count(b":si ")
                # keep the last bytes so a tag split between chunks is counted once, in the next round
                tail = data[-3:]
                count -= tail.count(b"<si") + tail.count(b":si")
                if count > limits.max_shared_strings:
                    raise _too_large(_l("The workbook holds more than %(n)d distinct texts; split it into "
                                        "smaller files.", n=limits.max_shared_strings))


def _is_blank(values) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _rows_within_limits(numbered_rows, limits: ReadLimits) -> list[tuple[int, list]]:
    """Keep non-blank rows; stop after ``blank_rows_stop`` blank rows in a row (the rest of a sheet whose
    dimension or last row claims far more than it holds) and once the data can no longer fit the row limit."""
    rows: list[tuple[int, list]] = []
    blanks = 0
    for number, values in numbered_rows:
        if _is_blank(values):
            blanks += 1
            if blanks >= limits.blank_rows_stop:
                break
            continue
        blanks = 0
        values = list(values)
        while values and (values[-1] is None or values[-1] == ""):
            values.pop()
        if len(values) > limits.max_columns:
            raise ValidationFailed(_l("Row %(r)d has more than %(n)d columns; use the template's columns.",
                                      r=number, n=limits.max_columns))
        for value in values:
            if isinstance(value, str) and len(value) > limits.max_cell_chars:
                raise ValidationFailed(_l("Row %(r)d has a cell longer than %(n)d characters.", r=number,
                                          n=limits.max_cell_chars))
        rows.append((number, values))
        # header + template description row + data rows: one more means "too many", no need to read on
        if len(rows) > limits.max_rows + 2:
            break
    return rows


def read_xlsx_rows(content: bytes, limits: ReadLimits) -> list[tuple[int, list]]:
    """The non-blank rows of the 'data' sheet (else the first), as (spreadsheet row number, values)."""
    from openpyxl import load_workbook

    inspect_xlsx(content, limits)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except ValidationFailed:
        raise
    except Exception as exc:  # untrusted file: any parser failure means "unreadable", never a 500
        raise ValidationFailed(_l("The file is not a valid Excel (.xlsx) workbook.")) from exc
    try:
        sheet = workbook[DATA_SHEET] if DATA_SHEET in workbook.sheetnames else workbook.worksheets[0]
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()  # never trust the stored dimension: it decides how much padding is made
        numbered = enumerate(sheet.iter_rows(max_col=limits.max_columns + 1, values_only=True), start=1)
        return _rows_within_limits(numbered, limits)
    except ValidationFailed:
        raise
    except Exception as exc:
        raise ValidationFailed(_l("The Excel file is damaged and could not be read.")) from exc
    finally:
        workbook.close()


def decode_csv(content: bytes) -> str:
    """CSV bytes as text: UTF-8 (with or without BOM) or GBK; UTF-16, NUL bytes and other control characters
    are refused with a hint, since they mean the file is not the text the template produces."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValidationFailed(_l("The CSV file is saved as UTF-16; save it as “CSV UTF-8” and try again."))
    if b"\x00" in content:
        raise ValidationFailed(_l("The file is not a CSV text file."))
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise ValidationFailed(_l("The CSV file must be encoded in UTF-8 or GBK."))
    if _NOT_TEXT.search(text):
        raise ValidationFailed(_l("The CSV file contains characters that are not text; save it again as "
                                  "“CSV UTF-8”."))
    return text


def read_csv_rows(content: bytes, limits: ReadLimits) -> list[tuple[int, list]]:
    """The non-blank rows of a CSV file, as (line-based row number, values)."""
    text = decode_csv(content)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        # csv's own field size limit (128 KiB) also stops a single enormous quoted field
        return _rows_within_limits(enumerate(reader, start=1), limits)
    except csv.Error as exc:
        raise ValidationFailed(_l("The CSV file is damaged and could not be read.")) from exc

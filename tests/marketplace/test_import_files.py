"""Hostile import files: each is built here, and each must end in a clear refusal (or a bounded read) before it
can keep a worker busy or fill its memory. Bounds are asserted through the limit errors and tracemalloc's
peak, never through wall-clock time."""
import io
import tracemalloc
import zipfile

import pytest
from flask_babel import force_locale
from openpyxl import Workbook

from marketplace.services.errors import ValidationFailed
from marketplace.services.imports import ReadLimits, read_table
from marketplace.services.imports.safe_read import inspect_xlsx, read_csv_rows, read_xlsx_rows
from tests.conftest import login

MB = 1024 * 1024


@pytest.fixture
def ctx(app):
    with app.test_request_context("/"), force_locale("en"):
        yield


def workbook_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "data"
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def rewrite_parts(content: bytes, changes: dict[str, bytes | None], extra: dict[str, bytes] | None = None,
                  compression=zipfile.ZIP_DEFLATED) -> bytes:
    """The workbook with some parts replaced (None drops a part) and others added."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as target:
        for info in source.infolist():
            if info.filename in changes:
                if changes[info.filename] is not None:
                    target.writestr(info.filename, changes[info.filename])
            else:
                target.writestr(info.filename, source.read(info.filename))
        for name, data in (extra or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def sheet_xml(rows_xml: str, dimension: str = "A1:B2") -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<dimension ref="{dimension}"/><sheetData>{rows_xml}</sheetData></worksheet>').encode()


def inline_row(number: int, *values: str) -> str:
    cells = "".join(f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>' for i, v in enumerate(values))
    return f'<row r="{number}">{cells}</row>'


HEADER = ["kind", "title_zh", "summary_zh"]


def refused(call, *args, **kwargs) -> str:
    with pytest.raises(ValidationFailed) as info:
        call(*args, **kwargs)
    return str(info.value.message)


def peak_of(call, *args, **kwargs):
    tracemalloc.start()
    try:
        result = call(*args, **kwargs)
    except ValidationFailed as exc:
        result = exc
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, peak


def test_a_dimension_bomb_reads_only_the_rows_that_exist(ctx):
    # 1.5 KB that claims A1:XFD1048576: openpyxl would pad every row to 16,384 cells for a million rows.
    base = workbook_bytes([HEADER])
    bomb = rewrite_parts(base, {"xl/worksheets/sheet1.xml": sheet_xml(
        inline_row(1, *HEADER) + inline_row(2, "product", "试剂盒", "摘要"), "A1:XFD1048576")})
    assert len(bomb) < 8 * 1024
    rows, peak = peak_of(read_xlsx_rows, bomb, ReadLimits())
    assert [number for number, _ in rows] == [1, 2] and rows[1][1] == ["product", "试剂盒", "摘要"]
    assert peak < 8 * MB


def test_a_far_away_last_row_stops_at_the_run_of_blank_rows(ctx):
    # One real row, then a cell on the sheet's last row: reading stops after the blank rows, never walks a million.
    bomb = rewrite_parts(workbook_bytes([HEADER]), {"xl/worksheets/sheet1.xml": sheet_xml(
        inline_row(1, *HEADER) + inline_row(2, "product", "试剂盒", "摘要") + inline_row(1048576, "x"),
        "A1:XFD1048576")})
    rows, peak = peak_of(read_xlsx_rows, bomb, ReadLimits(blank_rows_stop=50))
    assert [number for number, _ in rows] == [1, 2]
    assert peak < 8 * MB


def test_a_shared_strings_bomb_is_refused_before_parsing(ctx):
    # 300,000 short shared strings: about a megabyte zipped, 300,000 Python objects once openpyxl loads them.
    strings = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
               'spreadsheetml/2006/main">' + "".join(f"<si><t>{i:x}</t></si>" for i in range(300_000))
               + "</sst>").encode()
    bomb = rewrite_parts(workbook_bytes([HEADER, ["product", "试剂盒", "摘要"]]), {},
                         extra={"xl/sharedStrings.xml": strings})
    assert len(bomb) < 2 * MB
    message, peak = peak_of(read_xlsx_rows, bomb, ReadLimits())
    assert isinstance(message, ValidationFailed) and "more than 200000 distinct texts" in str(message.message)
    assert peak < 16 * MB
    # counted exactly, also across read chunks: a table at the limit passes the check
    assert inspect_xlsx(bomb, ReadLimits(max_shared_strings=300_000)) is None
    # the part's name is whatever the workbook's relationships say: another name is counted all the same
    renamed = rewrite_parts(workbook_bytes([HEADER]), {}, extra={"xl/strings-elsewhere.xml": strings})
    assert "distinct texts" in refused(inspect_xlsx, renamed, ReadLimits())


def test_a_zip_bomb_is_refused_from_the_directory(ctx):
    zeros = b"\0" * (4 * MB)
    bomb = rewrite_parts(workbook_bytes([HEADER]), {}, extra={"xl/media/padding.bin": zeros})
    assert len(bomb) < 64 * 1024
    message, peak = peak_of(read_table, "offers", "bomb.xlsx", bomb)
    assert isinstance(message, ValidationFailed) and "unpacks to far more data" in str(message.message)
    assert peak < 2 * MB  # the 4 MB part was never inflated
    # the same through the size limits alone
    assert "unpacks" in refused(inspect_xlsx, bomb, ReadLimits(max_compression_ratio=10**9, max_entry_bytes=MB))
    assert "unpacks" in refused(inspect_xlsx, bomb, ReadLimits(max_compression_ratio=10**9,
                                                                max_uncompressed_bytes=2 * MB))


@pytest.mark.parametrize("name, message", [
    ("xl/embeddings/inner.zip", "embedded files"),
    ("../../etc/passwd", "embedded files"),
    ("/absolute.xml", "embedded files"),
])
def test_odd_and_nested_entries_are_refused(ctx, name, message):
    odd = rewrite_parts(workbook_bytes([HEADER]), {}, extra={name: b"PK\x03\x04"})
    assert message in refused(inspect_xlsx, odd, ReadLimits())


def test_too_many_parts_missing_parts_and_encryption_are_refused(ctx):
    many = rewrite_parts(workbook_bytes([HEADER]), {}, extra={f"xl/x{i}.xml": b"<x/>" for i in range(30)})
    assert "too many parts" in refused(inspect_xlsx, many, ReadLimits(max_zip_entries=20))
    assert "not a valid Excel" in refused(inspect_xlsx, rewrite_parts(workbook_bytes([HEADER]),
                                                                       {"xl/workbook.xml": None}), ReadLimits())
    raw = bytearray(workbook_bytes([HEADER]))
    # set the "encrypted" flag of the first local header and of every central directory entry
    raw[6] |= 1
    position = raw.find(b"PK\x01\x02")
    while position != -1:
        raw[position + 8] |= 1
        position = raw.find(b"PK\x01\x02", position + 4)
    assert "password" in refused(inspect_xlsx, bytes(raw), ReadLimits())


def test_wide_rows_and_long_cells_are_refused(ctx):
    wide = workbook_bytes([HEADER, ["x"] * 300])
    assert "more than 200 columns" in refused(read_xlsx_rows, wide, ReadLimits())
    long_cell = workbook_bytes([HEADER, ["product", "x" * 40, "摘要"]])
    assert "longer than 30 characters" in refused(read_xlsx_rows, long_cell, ReadLimits(max_cell_chars=30))


def test_rows_past_the_limit_stop_the_read(ctx):
    content = workbook_bytes([HEADER] + [["product", f"产品{i}", "摘要"] for i in range(60)])
    rows = read_xlsx_rows(content, ReadLimits(max_rows=10))
    assert len(rows) == 13  # header, description-row allowance, data rows: one more than fits means "too many"
    assert "more than 10 rows" in refused(read_table, "offers", "x.xlsx", content, limits=ReadLimits(max_rows=10))


# --- CSV -------------------------------------------------------------------------------------------------

def test_csv_with_a_huge_line_is_refused(ctx):
    huge_field = ('kind,title_zh,summary_zh\r\nproduct,"' + "长" * 200_000 + '",x\r\n').encode()
    assert "damaged" in refused(read_csv_rows, huge_field, ReadLimits())
    many_columns = ("kind,title_zh,summary_zh\r\n" + ",".join(["x"] * 5000) + "\r\n").encode()
    assert "more than 200 columns" in refused(read_csv_rows, many_columns, ReadLimits())


def test_csv_with_nul_controls_surrogates_or_the_wrong_encoding_is_refused(ctx):
    base = "kind,title_zh,summary_zh\r\nproduct,试剂盒,摘要\r\n"
    late_nul = (base * 2000 + "product,x\x00,y\r\n").encode()  # past the first 4 KB
    assert "not a CSV text file" in refused(read_csv_rows, late_nul, ReadLimits())
    assert "not text" in refused(read_csv_rows, (base + "product,\x1b[31m,y\r\n").encode(), ReadLimits())
    surrogate = base.encode() + "product,\ud800,y\r\n".encode("utf-8", "surrogatepass")
    assert "UTF-8 or GBK" in refused(read_csv_rows, surrogate, ReadLimits())
    assert "UTF-16" in refused(read_csv_rows, base.encode("utf-16"), ReadLimits())
    assert "UTF-8 or GBK" in refused(read_csv_rows, b"kind,title\r\n\xff\xfeproduct,\x81\r\n", ReadLimits())


def test_csv_blank_rows_stop_the_read_and_gbk_still_reads(ctx):
    content = ("kind,title_zh,summary_zh\r\nproduct,试剂盒,摘要\r\n" + ",,\r\n" * 500 + "product,后面,摘要\r\n")
    rows = read_csv_rows(content.encode("gbk"), ReadLimits(blank_rows_stop=100))
    assert [number for number, _ in rows] == [1, 2]


def test_limits_come_from_the_configuration(app):
    limits = ReadLimits.from_config({**app.config, "IMPORT_MAX_ROWS": 7, "IMPORT_MAX_SHARED_STRINGS": 9})
    assert (limits.max_rows, limits.max_shared_strings, limits.max_columns) == (7, 9, 200)


def test_hostile_upload_through_the_page_gets_a_clear_message(client, make, app):
    org, _, email = make.member("firm")
    login(client, email)
    client.get("/lang/en")
    zeros = rewrite_parts(workbook_bytes([HEADER]), {}, extra={"xl/media/padding.bin": b"\0" * (4 * MB)})
    r = client.post("/transfer/import", data={"entity": "offers", "file": (io.BytesIO(zeros), "bomb.xlsx")},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and "unpacks to far more data" in r.get_data(as_text=True)
    app.config["IMPORT_MAX_ROWS"] = 3
    try:
        many = workbook_bytes([HEADER] + [["product", f"产品{i}", "摘要"] for i in range(5)])
        r = client.post("/transfer/import", data={"entity": "offers", "file": (io.BytesIO(many), "many.xlsx")},
                        content_type="multipart/form-data")
        assert r.status_code == 400 and "more than 3 rows" in r.get_data(as_text=True)
    finally:
        app.config["IMPORT_MAX_ROWS"] = 2000

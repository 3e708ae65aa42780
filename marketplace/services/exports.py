"""Exports of what a viewer may see (offers, needs, high-value patents, one batch) to Excel and CSV.

Queries go through the same visibility rules as the lists (``access.offer_visibility_clause`` and
``access.need_visibility_clause``) and records are written from their safe views (``visibility.static_view``). Files have one bilingual header row ("中文 / English"); every text cell that
a spreadsheet could take for a formula (starting with = + - @, tab or carriage return) is prefixed with a
single quote.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace import visibility
from marketplace.extensions import db
from marketplace.models import Batch, Field, Need, Offer, PatentDetail
from marketplace.models.catalogue import OFFER_KINDS, OFFER_STATUSES
from marketplace.models.needs import NEED_KINDS, NEED_STATUSES
from marketplace.services import access
from marketplace.services.errors import NotFound
from marketplace.services.cleaning import parse_id

EXPORT_FORMATS = ("xlsx", "csv")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_EXPORT_ROWS = 50_000


@dataclass(frozen=True)
class ExportColumn:
    """One exported column: bilingual header and how to get the value from a record."""

    zh: str
    en: str
    value: Callable

    @property
    def header(self) -> str:
        """The bilingual header cell."""
        return f"{self.zh} / {self.en}"


@dataclass
class ExportTable:
    """A named export: columns and the records to write (the file name stem is ``name``)."""

    name: str
    columns: tuple[ExportColumn, ...]
    records: list

    def rows(self) -> Iterator[list]:
        """Neutralised cell values, one list per record."""
        for record in self.records:
            yield [neutralise_formula(_plain(column.value(record))) for column in self.columns]


def neutralise_formula(value):
    """Prefix text that Excel, LibreOffice or Sheets would evaluate as a formula with a single quote."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _plain(value):
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="minutes")
    if isinstance(value, (bool, int, float, Decimal, date)):
        return value
    return str(value)


def _org_name_zh(record) -> str:
    return record.organization.name_zh if record.organization else ""


def _org_name_en(record) -> str:
    return record.organization.name_en if record.organization else ""


def _patent(attr: str):
    return lambda offer: getattr(offer.patent, attr) if offer.patent is not None else None


def offer_columns(user=None) -> tuple[ExportColumn, ...]:
    """Columns of an offer export, read from the records' safe views (``_records``)."""
    return (
        ExportColumn("编号", "ID", lambda o: o.id),
        ExportColumn("类型", "Kind", lambda o: o.kind),
        ExportColumn("状态", "Status", lambda o: o.status),
        ExportColumn("标题（中文）", "Title (Chinese)", lambda o: o.title_zh),
        ExportColumn("标题（英文）", "Title (English)", lambda o: o.title_en),
        ExportColumn("摘要（中文）", "Summary (Chinese)", lambda o: o.summary_zh),
        ExportColumn("摘要（英文）", "Summary (English)", lambda o: o.summary_en),
        ExportColumn("详细介绍（中文）", "Description (Chinese)", lambda o: o.description_zh),
        ExportColumn("详细介绍（英文）", "Description (English)", lambda o: o.description_en),
        ExportColumn("机构", "Organisation", _org_name_zh),
        ExportColumn("机构（英文）", "Organisation (English)", _org_name_en),
        ExportColumn("领域代码", "Field codes", lambda o: [f.code for f in o.fields]),
        ExportColumn("标签", "Tags", lambda o: o.tags or []),
        ExportColumn("技术成熟度", "TRL", lambda o: o.trl),
        ExportColumn("注册认证", "Registrations", lambda o: o.regulatory_statuses or []),
        ExportColumn("合作方式", "Partnership modes", lambda o: o.partnership_modes or []),
        ExportColumn("价格（元）", "Price (RMB)", lambda o: o.price_rmb),
        ExportColumn("专利申请号", "Patent application number", _patent("application_number")),
        ExportColumn("公开范围", "Visibility", lambda o: o.visibility),
        ExportColumn("批次", "Batch", lambda o: o.batch.number if o.batch else None),
        ExportColumn("发布时间", "Published at", lambda o: o.published_at),
    )


PATENT_COLUMNS = (
    ExportColumn("专利申请号", "Application number", _patent("application_number")),
    ExportColumn("专利名称（中文）", "Title (Chinese)", lambda o: o.title_zh),
    ExportColumn("专利名称（英文）", "Title (English)", lambda o: o.title_en),
    ExportColumn("专利类型", "Patent type", _patent("patent_type")),
    ExportColumn("法律状态", "Legal status", _patent("legal_status")),
    ExportColumn("IPC分类号", "IPC classes", _patent("ipc_classes")),
    ExportColumn("申请人", "Applicants", _patent("applicants")),
    ExportColumn("申请日", "Filing date", _patent("filing_date")),
    ExportColumn("权利要求数", "Claims", _patent("claims_count")),
    ExportColumn("被引次数", "Citations", _patent("citations")),
    ExportColumn("同族数量", "Family size", _patent("family_size")),
    ExportColumn("转化意愿", "Willingness to transfer", _patent("transfer_willingness")),
    ExportColumn("市场前景", "Market prospects", _patent("market_prospect")),
    ExportColumn("价值评分", "Value score", _patent("value_score")),
    ExportColumn("机构", "Organisation", _org_name_zh),
    ExportColumn("批次", "Batch", lambda o: o.batch.number if o.batch else None),
    ExportColumn("编号", "Offer ID", lambda o: o.id),
)

def need_columns(user=None) -> tuple[ExportColumn, ...]:
    """Columns of a need export, read from the records' safe views (``_records``)."""
    return (
        ExportColumn("编号", "ID", lambda n: n.id),
        ExportColumn("需求类型", "Kind", lambda n: n.kind),
        ExportColumn("状态", "Status", lambda n: n.status),
        ExportColumn("标题（中文）", "Title (Chinese)", lambda n: n.title_zh),
        ExportColumn("标题（英文）", "Title (English)", lambda n: n.title_en),
        ExportColumn("描述（中文）", "Description (Chinese)", lambda n: n.description_zh),
        ExportColumn("描述（英文）", "Description (English)", lambda n: n.description_en),
        ExportColumn("机构", "Organisation", _org_name_zh),
        ExportColumn("机构（英文）", "Organisation (English)", _org_name_en),
        ExportColumn("领域代码", "Field codes", lambda n: [f.code for f in n.fields]),
        ExportColumn("标签", "Tags", lambda n: n.tags or []),
        ExportColumn("数量", "Quantity", lambda n: n.quantity),
        ExportColumn("单位", "Unit", lambda n: n.unit),
        ExportColumn("预算下限（元）", "Budget from (RMB)", lambda n: n.budget_min_rmb),
        ExportColumn("预算上限（元）", "Budget up to (RMB)", lambda n: n.budget_max_rmb),
        ExportColumn("截止日期", "Deadline", lambda n: n.deadline),
        ExportColumn("资质要求", "Required registrations",
                     lambda n: n.required_certifications or []),
        ExportColumn("紧急程度", "Urgency", lambda n: n.urgency),
        ExportColumn("公开范围", "Visibility", lambda n: n.visibility),
    )


# --- queries --------------------------------------------------------------------------------------------

def _records(user, query) -> list[visibility.SafeView]:
    """The rows as safe views: exports are not logged as detail views, so details follow the static rule
    (public items, the owner organisation, operators; brokers and approved requesters read them on the page)."""
    return [visibility.static_view(user, row) for row in db.session.scalars(query.limit(MAX_EXPORT_ROWS))]


def _as_list(value) -> list:
    if value is None or value == "":
        return []
    return [v for v in (value if isinstance(value, (list, tuple, set)) else [value]) if v not in (None, "")]


def _field_ids(field_codes: list[str]) -> list[int]:
    """Ids of the named fields and all their subfields (a direction code such as D1 covers its subfields)."""
    ids: list[int] = []
    stack = list(db.session.scalars(select(Field).where(Field.code.in_(field_codes)))) if field_codes else []
    while stack:
        node = stack.pop()
        ids.append(node.id)
        stack.extend(node.children)
    return ids


def export_offers(user, *, kind=None, batch_number=None, field_code=None, status: str | None = None) -> ExportTable:
    """Offers the viewer may see, filtered like the catalogue's facets (each of kind, batch number and field or
    direction code may be one value or a list); published only unless staff ask ``status`` (a status name, or
    'any')."""
    query = select(Offer).where(access.offer_visibility_clause(user))
    if access.is_staff(user) and status in OFFER_STATUSES:
        query = query.where(Offer.status == status)
    elif not (access.is_staff(user) and status == "any"):
        query = query.where(Offer.status == "published")
    kinds = [k for k in _as_list(kind) if k in OFFER_KINDS]
    if _as_list(kind):
        query = query.where(Offer.kind.in_(kinds))
    numbers = [n for n in map(parse_id, _as_list(batch_number)) if n is not None]
    if _as_list(batch_number):
        query = query.join(Batch, Offer.batch_id == Batch.id).where(Batch.number.in_(numbers))
    codes = [str(c) for c in _as_list(field_code)]
    if codes:
        query = query.where(Offer.fields.any(Field.id.in_(_field_ids(codes))))
    query = query.options(selectinload(Offer.fields), selectinload(Offer.organization), selectinload(Offer.batch),
                          selectinload(Offer.patent))
    records = _records(user, query.order_by(Offer.published_at.desc().nulls_last(), Offer.id.desc()))
    return ExportTable("offers", offer_columns(user), records)


def export_needs(user, *, kind: str | None = None, status: str | None = None) -> ExportTable:
    """Needs the viewer may see; open ones as listed, unless staff ask ``status`` (a status name, or 'any')."""
    query = select(Need).where(access.need_visibility_clause(user))
    if access.is_staff(user) and status in NEED_STATUSES:
        query = query.where(Need.status == status)
    elif not (access.is_staff(user) and status == "any"):
        query = query.where(Need.status == "open")
    if kind in NEED_KINDS:
        query = query.where(Need.kind == kind)
    query = query.options(selectinload(Need.fields), selectinload(Need.organization))
    records = _records(user, query.order_by(Need.created_at.desc(), Need.id.desc()))
    return ExportTable("needs", need_columns(user), records)


def high_value_patents_query(user):
    """Published high-value patents the viewer may see (the public list's query, without ordering)."""
    return (select(Offer).join(PatentDetail, PatentDetail.offer_id == Offer.id)
            .where(access.offer_visibility_clause(user), Offer.status == "published",
                   PatentDetail.curation_stage == "high_value"))


def export_high_value_patents(user) -> ExportTable:
    """The published high-value patents, best score first."""
    query = high_value_patents_query(user).options(selectinload(Offer.organization), selectinload(Offer.batch),
                                                   selectinload(Offer.patent))
    records = _records(user, query.order_by(PatentDetail.value_score.desc().nulls_last(), Offer.id))
    return ExportTable("high-value-patents", PATENT_COLUMNS, records)


def export_batch(user, number: int) -> ExportTable:
    """The visible published offers of one batch; a high-value batch with the patent columns."""
    batch = db.session.scalar(select(Batch).where(Batch.number == number))
    if batch is None:
        raise NotFound(_l("This batch does not exist."))
    query = (select(Offer).where(Offer.batch_id == batch.id, Offer.status == "published",
                                 access.offer_visibility_clause(user))
             .options(selectinload(Offer.fields), selectinload(Offer.organization), selectinload(Offer.patent),
                      selectinload(Offer.batch)))
    if batch.kind == "high_value":
        query = query.outerjoin(PatentDetail, PatentDetail.offer_id == Offer.id).order_by(
            PatentDetail.value_score.desc().nulls_last(), Offer.id)
    else:
        query = query.order_by(Offer.id)
    records = _records(user, query)
    columns = PATENT_COLUMNS if batch.kind == "high_value" else offer_columns(user)
    return ExportTable(f"batch-{batch.number}", columns, records)


# --- writers --------------------------------------------------------------------------------------------

def xlsx_bytes(table: ExportTable) -> bytes:
    """The table as an .xlsx workbook (one sheet, bold bilingual header, frozen first row)."""
    return xlsx_workbook_bytes([table])


def xlsx_workbook_bytes(tables: list[ExportTable]) -> bytes:
    """Several tables as the sheets of one .xlsx workbook (each named after its table)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    for table in tables:
        sheet = workbook.create_sheet(table.name[:31])
        sheet.freeze_panes = "A2"
        header = []
        for column in table.columns:
            cell = WriteOnlyCell(sheet, value=neutralise_formula(column.header))
            cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        for row in table.rows():
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_chunks(table: ExportTable) -> Iterable[bytes]:
    """The table as UTF-8 CSV with a BOM (so Excel shows Chinese), produced row by row for streaming."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def take() -> bytes:
        data = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate(0)
        return data

    yield "\ufeff".encode("utf-8")
    writer.writerow([neutralise_formula(c.header) for c in table.columns])
    yield take()
    for row in table.rows():
        writer.writerow(["" if v is None else (v.isoformat() if isinstance(v, date) else v) for v in row])
        yield take()


def file_chunks(table: ExportTable, fmt: str, chunk_size: int = 64 * 1024) -> Iterable[bytes]:
    """Byte chunks of the export in ``fmt`` ('xlsx' or 'csv') for a streamed response."""
    if fmt == "csv":
        yield from csv_chunks(table)
        return
    data = xlsx_bytes(table)
    for start in range(0, len(data), chunk_size):
        yield data[start:start + chunk_size]


MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",  # the response adds "; charset=utf-8" to text types itself (once)
}

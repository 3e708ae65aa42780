"""Bulk import of offers, needs and patents from Excel (.xlsx) and CSV files.

Every row goes through the same service functions as the web forms (``offers.create_offer`` /
``update_offer``, ``needs.create_need`` / ``update_need``, hence ``clean_offer`` / ``clean_need``), all rows in
one transaction: when any row fails, ``ImportRejected`` lists every problem by spreadsheet row and column and
the caller's unit of work rolls everything back. Re-importing a file updates the records it created before
(matched by ``import_key``; patents also by application number) instead of adding duplicates.
"""
from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.identifiers import (is_valid_patent_number, normalise_patent_number, normalise_uscc,
                                     patent_check_character)
from marketplace.models import Need, Offer, Organization, PatentDetail
from marketplace.models.catalogue import OFFER_KINDS
from marketplace.models.needs import NEED_KINDS
from marketplace.services import access, needs as need_service, offers as offer_service
from marketplace.services.errors import DomainError, PermissionDenied, ValidationFailed
from marketplace.services.exports import neutralise_formula
from marketplace.services.patent_value import indicators_of, value_score

IMPORT_ENTITIES = ("offers", "needs", "patents")
IMPORT_FORMATS = ("xlsx", "csv")
MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 2000
DATA_SHEET = "data"
EXAMPLE_SHEET = "example"
OFFER_IMPORT_KINDS = tuple(k for k in OFFER_KINDS if k != "patent")


@dataclass(frozen=True)
class ImportColumn:
    """One spreadsheet column: its key (the header), bilingual description and an example value."""

    key: str
    zh: str
    en: str
    example: object = ""

    @property
    def description(self) -> str:
        """The bilingual description written under the key in templates ("中文 / English")."""
        return f"{self.zh} / {self.en}"


def _example_patent_number() -> str:
    digits = "202010123456"
    return f"{digits}.{patent_check_character(digits)}"


_ID_COLUMNS = (
    ImportColumn("external_id", "外部编号（可选，重复导入时用于识别同一条记录）",
                 "External ID (optional; identifies the same record when you import again)", "A-001"),
    ImportColumn("org_uscc", "机构统一社会信用代码（仅运营方或多机构成员填写）",
                 "Organisation's unified social credit code (operators, or members of several organisations)", ""),
    ImportColumn("organization_id", "机构编号（可代替信用代码）", "Organisation ID (instead of the credit code)", ""),
)
_TITLE_COLUMNS = (
    ImportColumn("title_zh", "标题（中文）", "Title (Chinese)", "新型冠状病毒核酸检测试剂盒"),
    ImportColumn("title_en", "标题（英文）", "Title (English)", "SARS-CoV-2 nucleic acid test kit"),
)
_OFFER_TEXT_COLUMNS = (
    ImportColumn("summary_zh", "摘要（中文；与英文摘要至少填一项）", "Summary (Chinese; this or the English one)",
                 "荧光PCR法，90分钟出结果"),
    ImportColumn("summary_en", "摘要（英文）", "Summary (English)", "Fluorescent PCR, results in 90 minutes"),
    ImportColumn("description_zh", "详细介绍（中文）", "Description (Chinese)", ""),
    ImportColumn("description_en", "详细介绍（英文）", "Description (English)", ""),
    ImportColumn("problem_zh", "解决的问题（中文）", "Problem solved (Chinese)", ""),
    ImportColumn("problem_en", "解决的问题（英文）", "Problem solved (English)", ""),
    ImportColumn("advantage_zh", "优势（中文）", "Advantages (Chinese)", ""),
    ImportColumn("advantage_en", "优势（英文）", "Advantages (English)", ""),
    ImportColumn("scenarios_zh", "应用场景（中文）", "Application scenarios (Chinese)", ""),
    ImportColumn("scenarios_en", "应用场景（英文）", "Application scenarios (English)", ""),
    ImportColumn("tags", "标签（逗号分隔）", "Tags (comma-separated)", "核酸检测, PCR"),
    ImportColumn("field_codes", "领域代码（逗号分隔，如 D1.ivd）", "Field codes (comma-separated, e.g. D1.ivd)",
                 "D1.virus_detection"),
    ImportColumn("trl", "技术成熟度 1-9", "Technology readiness level 1-9", 9),
    ImportColumn("partnership_modes", "合作方式：sale, licence, transfer, co_development, investment",
                 "Partnership modes: sale, licence, transfer, co_development, investment", "sale"),
    ImportColumn("visibility", "公开范围：public, teaser, confidential", "Visibility: public, teaser, confidential",
                 "public"),
)
OFFER_COLUMNS = _ID_COLUMNS + (
    ImportColumn("kind", "类型：technology, product, service, financial",
                 "Kind: technology, product, service, financial", "product"),
) + _TITLE_COLUMNS + _OFFER_TEXT_COLUMNS + (
    ImportColumn("regulatory_statuses", "注册认证：nmpa, ce, fda, emergency, none",
                 "Registrations: nmpa, ce, fda, emergency, none", "nmpa, ce"),
    ImportColumn("ip_status", "知识产权情况", "Intellectual property status", ""),
    ImportColumn("price_terms", "价格条款", "Price terms", ""),
    ImportColumn("price_rmb", "价格（元）", "Price (RMB)", 25.5),
    ImportColumn("capacity", "产能", "Production capacity", "每日10万人份"),
    ImportColumn("lead_time_days", "交付周期（天）", "Lead time (days)", 3),
    ImportColumn("product_type", "金融产品类型：loan, guarantee, leasing, investment（仅金融产品）",
                 "Financial product type: loan, guarantee, leasing, investment (financial only)", ""),
    ImportColumn("amount_min_rmb", "最低额度（元）", "Minimum amount (RMB)", ""),
    ImportColumn("amount_max_rmb", "最高额度（元）", "Maximum amount (RMB)", ""),
    ImportColumn("rate_min_pct", "最低利率（%）", "Minimum rate (%)", ""),
    ImportColumn("rate_max_pct", "最高利率（%）", "Maximum rate (%)", ""),
    ImportColumn("term_months_min", "最短期限（月）", "Minimum term (months)", ""),
    ImportColumn("term_months_max", "最长期限（月）", "Maximum term (months)", ""),
    ImportColumn("guarantee", "担保方式", "Guarantee", ""),
    ImportColumn("guarantee_fee_pct", "担保费率（%）", "Guarantee fee (%)", ""),
    ImportColumn("eligibility_zh", "申请条件（中文）", "Eligibility (Chinese)", ""),
    ImportColumn("eligibility_en", "申请条件（英文）", "Eligibility (English)", ""),
    ImportColumn("invest_fields", "投资领域", "Investment fields", ""),
    ImportColumn("invest_stages", "投资阶段：seed, angel, early, growth, late",
                 "Investment stages: seed, angel, early, growth, late", ""),
    ImportColumn("ticket_min_rmb", "最低投资额（元）", "Minimum ticket (RMB)", ""),
    ImportColumn("ticket_max_rmb", "最高投资额（元）", "Maximum ticket (RMB)", ""),
)
PATENT_COLUMNS = _ID_COLUMNS + (
    ImportColumn("application_number", "专利申请号（如 202010123456.X）",
                 "Patent application number (e.g. 202010123456.X)", _example_patent_number()),
    ImportColumn("title_zh", "专利名称（中文）", "Patent title (Chinese)", "一种新型冠状病毒快速检测方法"),
    ImportColumn("title_en", "专利名称（英文）", "Patent title (English)", "Rapid detection method for SARS-CoV-2"),
) + _OFFER_TEXT_COLUMNS + (
    ImportColumn("ipc_classes", "IPC分类号（逗号分隔）", "IPC classes (comma-separated)", "C12Q1/68"),
    ImportColumn("applicants", "申请人（逗号分隔）", "Applicants (comma-separated)", "某某大学"),
    ImportColumn("inventors", "发明人（逗号分隔）", "Inventors (comma-separated)", ""),
    ImportColumn("filing_date", "申请日 YYYY-MM-DD", "Filing date YYYY-MM-DD", "2020-02-10"),
    ImportColumn("grant_date", "授权日 YYYY-MM-DD", "Grant date YYYY-MM-DD", ""),
    ImportColumn("legal_status", "法律状态：pending, granted, lapsed, invalid, expired",
                 "Legal status: pending, granted, lapsed, invalid, expired", "granted"),
    ImportColumn("claims_count", "权利要求数", "Number of claims", 12),
    ImportColumn("citations", "被引次数", "Forward citations", 8),
    ImportColumn("family_size", "同族数量", "Patent family size", 3),
    ImportColumn("transfer_willingness", "转化意愿 1-5", "Willingness to transfer 1-5", 5),
    ImportColumn("market_prospect", "市场前景 1-5", "Market prospects 1-5", 4),
    ImportColumn("transfer_modes", "转化方式：assignment, exclusive_licence, non_exclusive_licence, licence, pledge, "
                 "equity", "Transfer modes: assignment, exclusive_licence, non_exclusive_licence, licence, pledge, "
                 "equity", "assignment, licence"),
)
NEED_COLUMNS = _ID_COLUMNS + (
    ImportColumn("kind", "需求类型：procurement, technology_cooperation, manufacturing_supply, testing_lab, "
                 "financing, space", "Need kind: procurement, technology_cooperation, manufacturing_supply, "
                 "testing_lab, financing, space", "procurement"),
    ImportColumn("title_zh", "需求标题（中文）", "Title (Chinese)", "采购64排CT一台"),
    ImportColumn("title_en", "需求标题（英文）", "Title (English)", "One 64-slice CT scanner"),
    ImportColumn("description_zh", "需求描述（中文）", "Description (Chinese)", "用于发热门诊"),
    ImportColumn("description_en", "需求描述（英文）", "Description (English)", "For the fever clinic"),
    ImportColumn("tags", "标签（逗号分隔）", "Tags (comma-separated)", "CT, 影像"),
    ImportColumn("field_codes", "领域代码（逗号分隔）", "Field codes (comma-separated)", "D1.devices"),
    ImportColumn("quantity", "数量", "Quantity", 1),
    ImportColumn("unit", "单位", "Unit", "台"),
    ImportColumn("budget_min_rmb", "预算下限（元）", "Budget from (RMB)", 3000000),
    ImportColumn("budget_max_rmb", "预算上限（元）", "Budget up to (RMB)", 5000000),
    ImportColumn("deadline", "截止日期 YYYY-MM-DD", "Deadline YYYY-MM-DD", "2026-12-31"),
    ImportColumn("required_certifications", "资质要求：nmpa, ce, fda, emergency, none",
                 "Required registrations: nmpa, ce, fda, emergency, none", "nmpa"),
    ImportColumn("min_trl", "最低技术成熟度 1-9", "Minimum technology readiness 1-9", ""),
    ImportColumn("urgency", "紧急程度：low, normal, high, critical", "Urgency: low, normal, high, critical", "high"),
    ImportColumn("visibility", "公开范围：public, teaser, confidential", "Visibility: public, teaser, confidential",
                 "public"),
)
COLUMNS_BY_ENTITY = {"offers": OFFER_COLUMNS, "needs": NEED_COLUMNS, "patents": PATENT_COLUMNS}
REQUIRED_HEADERS = {"offers": ("kind",), "needs": ("kind",), "patents": ("application_number",)}


@dataclass
class RowError:
    """One problem in an import file: spreadsheet row (as the user sees it), column key, translated reason."""

    row: int
    column: str
    message: object

    @property
    def reason(self) -> str:
        """The reason rendered in the current request's language."""
        return str(self.message)


class ImportRejected(ValidationFailed):
    """At least one row is invalid, so nothing was imported; ``row_errors`` says where and why."""

    def __init__(self, message, row_errors: list[RowError]):
        super().__init__(message)
        self.row_errors = row_errors


@dataclass
class ImportResult:
    """What a successful import did."""

    entity: str
    created: int = 0
    updated: int = 0
    skipped_rows: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Rows that created or updated a record."""
        return self.created + self.updated


@dataclass
class ImportTable:
    """Rows read from a file: each a (spreadsheet row number, {column key: cell value})."""

    headers: list[str]
    rows: list[tuple[int, dict]]


# --- templates ------------------------------------------------------------------------------------------

def columns_for(entity: str) -> tuple[ImportColumn, ...]:
    """The template columns of an import entity (offers, needs or patents)."""
    if entity not in COLUMNS_BY_ENTITY:
        raise ValidationFailed(_l("Unknown import type."))
    return COLUMNS_BY_ENTITY[entity]


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


# --- import keys and organisations ----------------------------------------------------------------------

def _normalised_title(data: dict) -> str:
    title = str(data.get("title_zh") or data.get("title_en") or "")
    return " ".join(title.split()).casefold()


def import_key_for(organization_id: int, entity_kind: str, data: dict) -> str:
    """Stable key of an imported record within its organisation and kind (e.g. 'offer:product'): from
    ``external_id`` when given, else from the normalised title (a SHA-1, 40 hex characters, fits the column).

    Scoping by organisation means one organisation's file can never overwrite another's records."""
    external_id = str(data.get("external_id") or "").strip()
    basis = f"ext|{external_id}" if external_id else f"title|{_normalised_title(data)}"
    return hashlib.sha1(f"{organization_id}|{entity_kind}|{basis}".encode()).hexdigest()


def _resolve_organization(user, data: dict, default_organization_id: int | None) -> tuple[int | None, RowError | None]:
    """Organisation a row goes to: its org_uscc / organization_id column, else the one chosen on the form."""
    uscc = normalise_uscc(str(data.get("org_uscc") or ""))
    raw_id = data.get("organization_id")
    organization_id = None
    if uscc:
        organization_id = db.session.scalar(select(Organization.id).where(Organization.uscc == uscc))
        if organization_id is None:
            return None, RowError(0, "org_uscc", _l("No organisation has this credit code."))
    elif raw_id not in (None, ""):
        try:
            organization_id = int(str(raw_id).strip())
        except ValueError:
            return None, RowError(0, "organization_id", _l("Enter a whole number."))
        if db.session.get(Organization, organization_id) is None:
            return None, RowError(0, "organization_id", _l("No organisation has this ID."))
    else:
        organization_id = default_organization_id
    column = "org_uscc" if uscc else "organization_id"
    if organization_id is None:
        return None, RowError(0, column, _l("Choose the organisation to import into."))
    if not (access.is_staff(user) or access.is_member_of(user, organization_id)):
        return None, RowError(0, column, _l("You are not a member of this organisation."))
    return organization_id, None


# --- importing ------------------------------------------------------------------------------------------

def _errors_to_rows(row: int, exc: DomainError, fallback_column: str) -> list[RowError]:
    if exc.field_errors:
        return [RowError(row, column, message) for column, message in exc.field_errors.items()]
    return [RowError(row, fallback_column, exc.message)]


def _score_patent(offer: Offer, weights: dict | None) -> None:
    if offer.patent is not None:
        offer.patent.value_score, _ = value_score(indicators_of(offer.patent), weights)


def _import_offer_row(user, row: int, data: dict, kind: str, organization_id: int, seen: dict,
                      weights: dict | None, result: ImportResult) -> list[RowError]:
    key = import_key_for(organization_id, f"offer:{kind}", data)
    key_column = "external_id" if data.get("external_id") else "title_zh"
    if key in seen:
        return [RowError(row, key_column, _l("This row repeats row %(n)d.", n=seen[key]))]
    seen[key] = row
    existing = db.session.scalar(select(Offer).where(Offer.import_key == key))
    if kind == "patent" and data.get("application_number"):
        number = normalise_patent_number(str(data["application_number"]))
        if is_valid_patent_number(number):
            if ("patent", number) in seen:
                return [RowError(row, "application_number",
                                 _l("This row repeats row %(n)d.", n=seen[("patent", number)]))]
            seen[("patent", number)] = row
            listed = db.session.scalar(select(Offer).join(PatentDetail)
                                       .where(PatentDetail.application_number == number))
            if listed is not None and existing is None:
                if listed.organization_id != organization_id:
                    message = (_l("This patent is already listed by another organisation.")
                               if access.can_view_offer(user, listed) else offer_service.NUMBER_UNAVAILABLE)
                    return [RowError(row, "application_number", message)]
                existing = listed
    if existing is not None and existing.kind != kind:
        return [RowError(row, "kind", _l("An earlier import of this record has another kind; the kind cannot "
                                         "change."))]
    if existing is not None and not access.can_edit_offer(user, existing):
        result.skipped_rows.append(row)
        return []
    try:
        if existing is None:
            offer = offer_service.create_offer(user, organization_id, kind, data)
            result.created += 1
        else:
            offer = offer_service.update_offer(user, existing, data)
            result.updated += 1
    except DomainError as exc:
        return _errors_to_rows(row, exc, key_column)
    offer.import_key = key
    if kind == "patent":
        _score_patent(offer, weights)
    db.session.flush()
    return []


def _import_need_row(user, row: int, data: dict, kind: str, organization_id: int, seen: dict,
                     result: ImportResult) -> list[RowError]:
    key = import_key_for(organization_id, f"need:{kind}", data)
    key_column = "external_id" if data.get("external_id") else "title_zh"
    if key in seen:
        return [RowError(row, key_column, _l("This row repeats row %(n)d.", n=seen[key]))]
    seen[key] = row
    existing = db.session.scalar(select(Need).where(Need.import_key == key))
    if existing is not None and existing.kind != kind:
        return [RowError(row, "kind", _l("An earlier import of this record has another kind; the kind cannot "
                                         "change."))]
    try:
        if existing is None:
            need = need_service.create_need(user, organization_id, kind, data, publish=True)
            result.created += 1
        else:
            need = need_service.update_need(user, existing, data)
            result.updated += 1
    except DomainError as exc:
        return _errors_to_rows(row, exc, key_column)
    need.import_key = key
    db.session.flush()
    return []


def import_table(user, entity: str, table: ImportTable, *, organization_id: int | None = None,
                 weights: dict | None = None) -> ImportResult:
    """Create or update one record per row, all or nothing.

    Members import into their own organisations (``organization_id`` from the form, or a row's org_uscc /
    organization_id column naming one of them); staff into any. Offers and patents arrive as drafts, needs
    open (as the form posts them); imported patents start in the curation funnel as 'screened' with a value
    score computed with ``weights`` (default weights when None). Raises ImportRejected listing every invalid
    row; the caller's unit of work then rolls back whatever earlier rows flushed.
    """
    if entity not in IMPORT_ENTITIES:
        raise ValidationFailed(_l("Unknown import type."))
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied(_l("Log in to import."))
    result = ImportResult(entity=entity)
    problems: list[RowError] = []
    seen: dict = {}
    for row, data in table.rows:
        org_id, org_error = _resolve_organization(user, data, organization_id)
        if org_error is not None:
            org_error.row = row
            problems.append(org_error)
            continue
        if entity == "needs":
            kind = str(data.get("kind") or "").strip()
            if kind not in NEED_KINDS:
                problems.append(RowError(row, "kind", _l("Not a valid choice: %(v)s.", v=kind) if kind
                                         else _l("This field is required.")))
                continue
            problems.extend(_import_need_row(user, row, data, kind, org_id, seen, result))
            continue
        kind = "patent" if entity == "patents" else str(data.get("kind") or "").strip()
        if kind not in (OFFER_IMPORT_KINDS if entity == "offers" else ("patent",)):
            problems.append(RowError(row, "kind", _l("Not a valid choice: %(v)s.", v=kind) if kind
                                     else _l("This field is required.")))
            continue
        problems.extend(_import_offer_row(user, row, data, kind, org_id, seen, weights, result))
    if problems:
        problems.sort(key=lambda e: (e.row, e.column))
        raise ImportRejected(_l("Nothing was imported: %(n)d problems in %(r)d rows. Correct them and import the "
                                "file again.", n=len(problems), r=len({e.row for e in problems})), problems)
    return result


def import_file(user, entity: str, filename: str, content: bytes, *, organization_id: int | None = None,
                weights: dict | None = None, max_bytes: int = MAX_IMPORT_BYTES,
                max_rows: int = MAX_IMPORT_ROWS) -> ImportResult:
    """Read an uploaded .xlsx or .csv file and import its rows (see ``read_table`` and ``import_table``)."""
    table = read_table(entity, filename, content, max_bytes=max_bytes, max_rows=max_rows)
    return import_table(user, entity, table, organization_id=organization_id, weights=weights)


def default_organization_for(user, chosen: str | int | None) -> int | None:
    """The organisation chosen on the import form, checked; a member of exactly one needs not choose."""
    if chosen not in (None, ""):
        try:
            organization_id = int(chosen)
        except (TypeError, ValueError):
            raise ValidationFailed(_l("Choose the organisation to import into.")) from None
        access.require_member(user, organization_id)
        return organization_id
    org_ids = sorted(getattr(user, "org_ids", set()) or set())
    return org_ids[0] if len(org_ids) == 1 else None


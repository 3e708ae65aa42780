"""Template columns of each import entity (offers, needs, patents): keys, bilingual descriptions and
example values; they define both the downloadable templates and the headers a file may use."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from marketplace.identifiers import patent_check_character
from marketplace.services.errors import ValidationFailed

IMPORT_ENTITIES = ("offers", "needs", "patents")


@dataclass(frozen=True)
class ImportColumn:
    """One spreadsheet column: its key (internal), bilingual description and an example value.

    People see the column's short ``label_zh`` / ``label_en`` as the header (derived from the description
    unless given); a file may use the label in either language, the description or the key. ``codes`` names
    the ``vocabulary`` group of a coded column: the template offers its labels in a drop-down and the import
    takes labels as well as codes (``multiple``: several, comma-separated)."""

    key: str
    zh: str
    en: str
    example: object = ""
    codes: str | None = None
    multiple: bool = False
    short_zh: str | None = None
    short_en: str | None = None

    @property
    def description(self) -> str:
        """The bilingual description written under the header in templates ("中文 / English")."""
        return f"{self.zh} / {self.en}"

    @property
    def label_zh(self) -> str:
        """Short Chinese header."""
        return self.short_zh or _short(self.zh)

    @property
    def label_en(self) -> str:
        """Short English header."""
        return self.short_en or _short(self.en)

    def label(self, locale: str) -> str:
        """The header people see in ``locale``."""
        return self.label_en if str(locale).startswith("en") else self.label_zh


def _short(text: str) -> str:
    """A description's part before its list of values ("类型：technology, …" -> "类型")."""
    for separator in ("：", ": "):
        text = text.split(separator)[0]
    return text.strip()


def _example_patent_number() -> str:
    digits = "202010123456"
    return f"{digits}.{patent_check_character(digits)}"


_ID_COLUMNS = (
    ImportColumn("external_id", "外部编号（可选，重复导入时用于识别同一条记录）",
                 "External ID (optional; identifies the same record when you import again)", "A-001",
                 short_zh="外部编号", short_en="External ID"),
    ImportColumn("org_uscc", "机构统一社会信用代码（仅运营方或多机构成员填写）",
                 "Organisation's unified social credit code (operators, or members of several organisations)", "",
                 short_zh="机构信用代码", short_en="Organisation credit code"),
    ImportColumn("organization_id", "机构编号（可代替信用代码）", "Organisation ID (instead of the credit code)", "",
                 short_zh="机构编号", short_en="Organisation ID"),
)
_TITLE_COLUMNS = (
    ImportColumn("title_zh", "标题（中文）", "Title (Chinese)", "新型冠状病毒核酸检测试剂盒"),
    ImportColumn("title_en", "标题（英文）", "Title (English)", "SARS-CoV-2 nucleic acid test kit"),
)
_OFFER_TEXT_COLUMNS = (
    ImportColumn("summary_zh", "摘要（中文；与英文摘要至少填一项）", "Summary (Chinese; this or the English one)",
                 "荧光PCR法，90分钟出结果", short_zh="摘要（中文）", short_en="Summary (Chinese)"),
    ImportColumn("summary_en", "摘要（英文）", "Summary (English)", "Fluorescent PCR, results in 90 minutes"),
    ImportColumn("description_zh", "详细介绍（中文）", "Description (Chinese)", ""),
    ImportColumn("description_en", "详细介绍（英文）", "Description (English)", ""),
    ImportColumn("problem_zh", "解决的问题（中文）", "Problem solved (Chinese)", ""),
    ImportColumn("problem_en", "解决的问题（英文）", "Problem solved (English)", ""),
    ImportColumn("advantage_zh", "优势（中文）", "Advantages (Chinese)", ""),
    ImportColumn("advantage_en", "优势（英文）", "Advantages (English)", ""),
    ImportColumn("scenarios_zh", "应用场景（中文）", "Application scenarios (Chinese)", ""),
    ImportColumn("scenarios_en", "应用场景（英文）", "Application scenarios (English)", ""),
    ImportColumn("tags", "标签（逗号分隔）", "Tags (comma-separated)", "核酸检测, PCR", short_zh="标签",
                 short_en="Tags"),
    ImportColumn("field_codes", "领域代码（逗号分隔，如 D1.ivd）", "Field codes (comma-separated, e.g. D1.ivd)",
                 "D1.virus_detection", short_zh="领域代码", short_en="Field codes"),
    ImportColumn("trl", "技术成熟度 1-9", "Technology readiness level 1-9", 9),
    ImportColumn("partnership_modes", "合作方式：sale, licence, transfer, co_development, investment",
                 "Partnership modes: sale, licence, transfer, co_development, investment", "sale",
                 codes="partnership", multiple=True),
    ImportColumn("visibility", "公开范围：public, teaser, confidential", "Visibility: public, teaser, confidential",
                 "public", codes="visibility"),
)
OFFER_COLUMNS = _ID_COLUMNS + (
    ImportColumn("kind", "类型：technology, product, service, financial",
                 "Kind: technology, product, service, financial", "product", codes="offer_kind"),
) + _TITLE_COLUMNS + _OFFER_TEXT_COLUMNS + (
    ImportColumn("regulatory_statuses", "注册认证：nmpa, ce, fda, emergency, none",
                 "Registrations: nmpa, ce, fda, emergency, none", "nmpa, ce", codes="regulatory", multiple=True),
    ImportColumn("ip_status", "知识产权情况", "Intellectual property status", ""),
    ImportColumn("price_terms", "价格条款", "Price terms", ""),
    ImportColumn("price_rmb", "价格（元）", "Price (RMB)", 25.5),
    ImportColumn("capacity", "产能", "Production capacity", "每日10万人份"),
    ImportColumn("lead_time_days", "交付周期（天）", "Lead time (days)", 3),
    ImportColumn("product_type", "金融产品类型：loan, guarantee, leasing, investment（仅金融产品）",
                 "Financial product type: loan, guarantee, leasing, investment (financial only)", "",
                 codes="financial_type", short_zh="金融产品类型", short_en="Financial product type"),
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
                 "Investment stages: seed, angel, early, growth, late", "", codes="invest_stage", multiple=True),
    ImportColumn("ticket_min_rmb", "最低投资额（元）", "Minimum ticket (RMB)", ""),
    ImportColumn("ticket_max_rmb", "最高投资额（元）", "Maximum ticket (RMB)", ""),
)
PATENT_COLUMNS = _ID_COLUMNS + (
    ImportColumn("application_number", "专利申请号（如 202010123456.X）",
                 "Patent application number (e.g. 202010123456.X)", _example_patent_number(),
                 short_zh="专利申请号", short_en="Application number"),
    ImportColumn("title_zh", "专利名称（中文）", "Patent title (Chinese)", "一种新型冠状病毒快速检测方法"),
    ImportColumn("title_en", "专利名称（英文）", "Patent title (English)", "Rapid detection method for SARS-CoV-2"),
) + _OFFER_TEXT_COLUMNS + (
    ImportColumn("ipc_classes", "IPC分类号（逗号分隔）", "IPC classes (comma-separated)", "C12Q1/68",
                 short_zh="IPC分类号", short_en="IPC classes"),
    ImportColumn("applicants", "申请人（逗号分隔）", "Applicants (comma-separated)", "某某大学",
                 short_zh="申请人", short_en="Applicants"),
    ImportColumn("inventors", "发明人（逗号分隔）", "Inventors (comma-separated)", "", short_zh="发明人",
                 short_en="Inventors"),
    ImportColumn("filing_date", "申请日 YYYY-MM-DD", "Filing date YYYY-MM-DD", "2020-02-10"),
    ImportColumn("grant_date", "授权日 YYYY-MM-DD", "Grant date YYYY-MM-DD", ""),
    ImportColumn("legal_status", "法律状态：pending, granted, lapsed, invalid, expired",
                 "Legal status: pending, granted, lapsed, invalid, expired", "granted", codes="legal_status"),
    ImportColumn("claims_count", "权利要求数", "Number of claims", 12),
    ImportColumn("citations", "被引次数", "Forward citations", 8),
    ImportColumn("family_size", "同族数量", "Patent family size", 3),
    ImportColumn("transfer_willingness", "转化意愿 1-5", "Willingness to transfer 1-5", 5),
    ImportColumn("market_prospect", "市场前景 1-5", "Market prospects 1-5", 4),
    ImportColumn("transfer_modes", "转化方式：assignment, exclusive_licence, non_exclusive_licence, licence, pledge, "
                 "equity", "Transfer modes: assignment, exclusive_licence, non_exclusive_licence, licence, pledge, "
                 "equity", "assignment, licence", codes="transfer_mode", multiple=True),
)
NEED_COLUMNS = _ID_COLUMNS + (
    ImportColumn("kind", "需求类型：procurement, technology_cooperation, manufacturing_supply, testing_lab, "
                 "financing, space", "Need kind: procurement, technology_cooperation, manufacturing_supply, "
                 "testing_lab, financing, space", "procurement", codes="need_kind"),
    ImportColumn("title_zh", "需求标题（中文）", "Title (Chinese)", "采购64排CT一台"),
    ImportColumn("title_en", "需求标题（英文）", "Title (English)", "One 64-slice CT scanner"),
    ImportColumn("description_zh", "需求描述（中文）", "Description (Chinese)", "用于发热门诊"),
    ImportColumn("description_en", "需求描述（英文）", "Description (English)", "For the fever clinic"),
    ImportColumn("tags", "标签（逗号分隔）", "Tags (comma-separated)", "CT, 影像"),
    ImportColumn("field_codes", "领域代码（逗号分隔）", "Field codes (comma-separated)", "D1.devices",
                 short_zh="领域代码", short_en="Field codes"),
    ImportColumn("quantity", "数量", "Quantity", 1),
    ImportColumn("unit", "单位", "Unit", "台"),
    ImportColumn("budget_min_rmb", "预算下限（元）", "Budget from (RMB)", 3000000),
    ImportColumn("budget_max_rmb", "预算上限（元）", "Budget up to (RMB)", 5000000),
    ImportColumn("deadline", "截止日期 YYYY-MM-DD", "Deadline YYYY-MM-DD", "2026-12-31"),
    ImportColumn("required_certifications", "资质要求：nmpa, ce, fda, emergency, none",
                 "Required registrations: nmpa, ce, fda, emergency, none", "nmpa", codes="regulatory",
                 multiple=True),
    ImportColumn("min_trl", "最低技术成熟度 1-9", "Minimum technology readiness 1-9", ""),
    ImportColumn("urgency", "紧急程度：low, normal, high, critical", "Urgency: low, normal, high, critical", "high",
                 codes="urgency"),
    ImportColumn("visibility", "公开范围：public, teaser, confidential", "Visibility: public, teaser, confidential",
                 "public", codes="visibility"),
)
COLUMNS_BY_ENTITY = {"offers": OFFER_COLUMNS, "needs": NEED_COLUMNS, "patents": PATENT_COLUMNS}
REQUIRED_HEADERS = {"offers": ("kind",), "needs": ("kind",), "patents": ("application_number",)}


def columns_for(entity: str) -> tuple[ImportColumn, ...]:
    """The template columns of an import entity (offers, needs or patents)."""
    if entity not in COLUMNS_BY_ENTITY:
        raise ValidationFailed(_l("Unknown import type."))
    return COLUMNS_BY_ENTITY[entity]


def code_choices(entity: str, column: ImportColumn) -> list[str]:
    """The codes a coded column accepts for ``entity`` (offers cannot be imported as patents)."""
    from marketplace import vocabulary

    codes = list(vocabulary.ALL_LABELS[column.codes])
    if entity == "offers" and column.key == "kind":
        codes = [c for c in codes if c != "patent"]
    return codes


def code_aliases(column: ImportColumn) -> dict[str, str]:
    """Casefolded code, Chinese label and English label -> code, for a coded column: a file filled in from
    the template's drop-downs (labels) imports the same as one typed with codes."""
    from flask_babel import force_locale

    from marketplace import vocabulary

    labels = vocabulary.ALL_LABELS[column.codes]
    aliases = {}
    for locale in ("en", "zh"):
        with force_locale(locale):
            aliases.update({str(text).strip().casefold(): code for code, text in labels.items()})
    aliases.update({code.casefold(): code for code in labels})
    return aliases


def header_aliases(entity: str) -> dict[str, str]:
    """Casefolded header text -> column key: the labels in both languages, the description and the key."""
    aliases = {}
    for column in columns_for(entity):
        for alias in (column.key, column.description, column.zh, column.en, column.label_zh, column.label_en):
            aliases[alias.strip().casefold()] = column.key
    return aliases


def column_labels(entity: str, locale: str) -> dict[str, str]:
    """Column key -> the header people see in ``locale`` (for reports: never the internal key)."""
    return {column.key: column.label(locale) for column in columns_for(entity)}

"""Filings as an Excel workbook (the firm's own record of what it filed and how each office decided)."""
from __future__ import annotations

from marketplace import vocabulary
from marketplace.services.exports import ExportColumn, ExportTable, xlsx_bytes


def _rows(filings, lang: str) -> list[dict]:
    return [{"filing": filing, "part": part, "lang": lang} for filing in filings for part in filing.parts]


COLUMNS = (
    ExportColumn("备案标题", "Record title", lambda r: r["filing"].title),
    ExportColumn("项目名称", "Project", lambda r: r["filing"].project_name),
    ExportColumn("备案日期", "Filed on", lambda r: r["filing"].filed_on.isoformat()),
    ExportColumn("支持措施", "Measure", lambda r: r["part"].measure_number),
    ExportColumn("负责处室", "Office", lambda r: r["part"].office.name(r["lang"]) if r["part"].office else ""),
    ExportColumn("状态", "Status", lambda r: vocabulary.label("policy_part_status", r["part"].status)),
    ExportColumn("支持金额（元）", "Amount (RMB)",
                 lambda r: float(r["part"].amount_rmb) if r["part"].amount_rmb is not None else ""),
    ExportColumn("说明", "Note", lambda r: r["part"].note),
)


def filings_workbook(filings, lang: str) -> bytes:
    """One row per claimed measure: record title, project, measure, office, status, amount, note."""
    return xlsx_bytes(ExportTable("filings", COLUMNS, _rows(filings, lang)))

"""The filing record as a PDF file: the annex's fields and each office's review, in the reader's language.

Chinese is set in the Adobe CID font STSong-Light, which PDF readers supply themselves, so nothing has to be
embedded and the file stays small; no font file is needed on the server.
"""
from __future__ import annotations

from io import BytesIO
from xml.sax.saxutils import escape

from flask_babel import gettext as _

from marketplace.i18n import format_rmb
from marketplace.models import PolicyFiling
from marketplace.vocabulary import label

FONT = "STSong-Light"


def _font() -> str:
    """Register the CID font once per process (reportlab keeps a registry of its own)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _text(value) -> str:
    """Plain text for a paragraph: escaped, line breaks kept."""
    return escape(str(value or "")).replace("\n", "<br/>")


def filing_record_pdf(filing: PolicyFiling, org, direction_name: str, lang: str) -> bytes:
    """The record of ``filing`` (already checked as visible to the reader) as PDF bytes."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = _font()
    body = ParagraphStyle("body", fontName=font, fontSize=10, leading=15, wordWrap="CJK")
    title = ParagraphStyle("title", parent=body, fontSize=15, leading=22, alignment=1, spaceAfter=4)
    small = ParagraphStyle("small", parent=body, fontSize=9, alignment=1, textColor=colors.grey)
    heading = ParagraphStyle("heading", parent=body, fontSize=11, leading=18, spaceBefore=10, spaceAfter=4)

    def cell(value) -> Paragraph:
        return Paragraph(_text(value), body)

    name = org.name(lang) if org is not None else ""
    if org is not None and org.short_name:
        name = f"{name}（{org.short_name}）"
    measures = "<br/>".join(escape(f"{_('Measure %(n)d', n=part.measure_number)} {part.measure.title(lang)}")
                            for part in filing.parts)
    fields = [
        (_("Organisation"), cell(name)),
        (_("Project name"), cell(filing.project_name)),
        (_("Support direction"), cell(direction_name)),
        (_("Measures claimed"), Paragraph(measures, body)),
        (_("Project description"), cell(filing.description)),
        (_("Contact"), cell(f"{filing.contact_name} · {filing.contact_phone}")),
        (_("Filed on"), cell(filing.filed_on)),
    ]
    grid = TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                       ("VALIGN", (0, 0), (-1, -1), "TOP"), ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke)])
    record = Table([(cell(k), v) for k, v in fields], colWidths=(35 * mm, 135 * mm), style=grid)
    header = [cell(h) for h in (_("Measure"), _("Office"), _("Status"), _("Amount"), _("Note"))]
    rows = [header] + [[cell(part.measure_number), cell(part.office.name(lang) if part.office else ""),
                        cell(label("policy_part_status", part.status)),
                        cell(format_rmb(part.amount_rmb) if part.amount_rmb is not None else ""), cell(part.note)]
                       for part in filing.parts]
    review_style = TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"), ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke)])
    review = Table(rows, colWidths=(18 * mm, 40 * mm, 27 * mm, 30 * mm, 55 * mm), style=review_style, repeatRows=1)

    out = BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                            bottomMargin=18 * mm, title=filing.title, author=name,
                            subject=_("Project filing record (support measures of the park)"))
    doc.build([Paragraph(_text(filing.title), title),
               Paragraph(_text(_("Project filing record (support measures of the park)")), small), Spacer(1, 6 * mm),
               record, Paragraph(_text(_("Review by the offices")), heading), review])
    return out.getvalue()

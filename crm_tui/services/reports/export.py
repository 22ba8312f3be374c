"""The pack written to a file: plain text or an XLSX workbook with native charts; audited."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from crm_tui.domain import reports as dr
from crm_tui.domain.errors import ValidationError, ValidationErrors
from crm_tui.i18n import _
from crm_tui.services.context import Actor, Services
from crm_tui.services.files import private_file
from crm_tui.services.reports.model import Pack
from crm_tui.services.reports.tables import (
    _title,
    distribution_table,
    pack_text,
    ratings_table,
    review_table,
    staff_table,
    summary_table,
)


def _target(path: str | Path, suffix: str) -> Path:
    target = Path(path).expanduser()
    if target.suffix.lower() != suffix:
        raise ValidationErrors([ValidationError("path", "The file name must end in {suffix}", suffix=suffix)])
    if not target.parent.is_dir():
        raise ValidationErrors([ValidationError("path", "The folder {folder} does not exist",
                                                folder=str(target.parent))])
    return target


def _write_error(target: Path, e: OSError) -> ValidationErrors:
    return ValidationErrors([ValidationError("path", "Could not write {path}: {reason}", path=str(target),
                                             reason=e.strerror or type(e).__name__)])


def export_text(svc: Services, actor: Actor, p: Pack, path: str | Path) -> Path:
    svc.require(actor, "report.view")
    target = _target(path, ".txt")
    body = pack_text(p)
    try:
        with private_file(target, "w", encoding="utf-8") as fh:
            fh.write(body)
    except OSError as e:
        raise _write_error(target, e) from None
    with svc.write(actor) as tx:
        tx.audit("report.export", details={"kind": p.period.kind, "period": p.period.label(), "format": "txt",
                                           "file": target.name})
    return target


def export_xlsx(svc: Services, actor: Actor, p: Pack, path: str | Path) -> Path:
    """The pack as an XLSX workbook: a summary sheet, one sheet per table, native Excel charts for
    the weekly series, the category/grade distribution and the conversion by source. Audited."""
    svc.require(actor, "report.view")
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.styles import Font

    target = _target(path, ".xlsx")
    wb = Workbook()
    bold = Font(bold=True)

    def sheet(title: str, table: tuple[list[str], list[list[Any]]], first: bool = False) -> Any:
        ws = wb.active if first else wb.create_sheet()
        ws.title = title[:31]
        header, rows = table
        ws.append(header)
        for c in ws[1]:
            c.font = bold
        for r in rows:
            ws.append([_cell(v) for v in r])
            for c, v in zip(ws[ws.max_row], r):
                if isinstance(v, dr.Figure):  # a number with its format: Excel sums and sorts it
                    c.number_format = v.number_format
        _widths(ws, [header, *rows])
        ws.freeze_panes = "A2"
        return ws

    ws = sheet(_("Summary"), summary_table(p), first=True)
    ws.insert_rows(1, 2)
    ws.freeze_panes = "A4"  # the header row moved down under the title
    ws["A1"] = _title(p)
    ws["A1"].font = Font(bold=True, size=14)
    ws["A2"] = _("Made {at}", at=f"{p.made_at:%Y-%m-%d %H:%M}")

    # Weekly series with numbers (not percentage strings) so the charts can plot them.
    wk = wb.create_sheet(_("By week")[:31])
    wk.append([_("Week of"), _("New customers"), _("Complaints"), _("Within limits (%)"), _("Satisfaction"),
               _("Survey score")])
    for c in wk[1]:
        c.font = bold
    for w in p.weeks:
        wk.append([w.week, w.new_customers, w.complaints,
                   None if w.within_share is None else round(w.within_share * 100, 1),
                   None if w.satisfaction is None else round(w.satisfaction, 2),
                   None if w.survey is None else round(w.survey, 2)])
        row = wk[wk.max_row]
        row[0].number_format = "yyyy-mm-dd"  # a date, not text
        row[3].number_format = "0.0"
        row[4].number_format = row[5].number_format = "0.00"
    _widths(wk, [[_c.value for _c in r] for r in wk.iter_rows()])
    wk.freeze_panes = "A2"
    n = len(p.weeks) + 1
    cats = Reference(wk, min_col=1, min_row=2, max_row=n)
    for col, title, anchor, kind in ((2, _("New customers per week"), "H2", "bar"),
                                     (3, _("Complaints per week"), "H18", "bar"),
                                     (4, _("Complaints within the time limits per week"), "H34", "line"),
                                     (5, _("Satisfaction trend"), "H50", "line")):
        chart = BarChart() if kind == "bar" else LineChart()
        chart.title = title
        chart.add_data(Reference(wk, min_col=col, min_row=1, max_row=n), titles_from_data=True)
        chart.set_categories(cats)
        chart.height, chart.width = 7.5, 16
        wk.add_chart(chart, anchor)

    cw = wb.create_sheet(_("Complaints by category")[:31])
    cw.append([_("Complaint category"), _("Complaints")])
    for r in p.complaint_categories:
        cw.append(list(r))
    _widths(cw, [[_c.value for _c in r] for r in cw.iter_rows()])
    cw.freeze_panes = "A2"

    dist = sheet(_("Category and grade"), distribution_table(p.distribution))
    if p.distribution.categories and p.distribution.grades:
        chart = BarChart()
        chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
        chart.title = _("Customers by category and grade")
        rows_n = len(p.distribution.categories) + 1
        chart.add_data(Reference(dist, min_col=2, max_col=1 + len(p.distribution.grades), min_row=1, max_row=rows_n),
                       titles_from_data=True)
        chart.set_categories(Reference(dist, min_col=1, min_row=2, max_row=rows_n))
        dist.add_chart(chart, f"A{rows_n + 4}")

    src = wb.create_sheet(_("Conversion by source")[:31])
    src.append([_("Information source"), _("Cards"), _("Won"), _("Lost"), _("Conversion (%)")])
    for r in p.sources:
        src.append([r.source, r.cards, r.won, r.lost, None if r.conversion is None else round(r.conversion * 100, 1)])
        src.cell(src.max_row, 5).number_format = "0.0"
    _widths(src, [[_c.value for _c in r] for r in src.iter_rows()])
    src.freeze_panes = "A2"
    if p.sources:
        chart = BarChart()
        chart.title = _("Follow-up conversion by source")
        chart.add_data(Reference(src, min_col=5, min_row=1, max_row=len(p.sources) + 1), titles_from_data=True)
        chart.set_categories(Reference(src, min_col=1, min_row=2, max_row=len(p.sources) + 1))
        src.add_chart(chart, "G2")

    if p.review is not None:
        fu = sheet(_("Follow-up review"), review_table([p.review.total], _("Cards")))
        for table in (review_table(p.review.levels, _("Intent level")), review_table(p.review.staff, _("Consultant"))):
            fu.append([])
            fu.append(table[0])
            for c in fu[fu.max_row]:
                c.font = bold
            for r in table[1]:
                fu.append(r)
    sheet(_("Staff metrics"), staff_table(p.staff))
    sheet(_("Credit rating"), ratings_table(p.ratings.credit, _("Credit rating")))
    sheet(_("Risk rating"), ratings_table(p.ratings.risk, _("Risk rating")))
    try:
        with private_file(target) as fh:
            wb.save(fh)
    except OSError as e:
        raise _write_error(target, e) from None
    with svc.write(actor) as tx:
        tx.audit("report.export", details={"kind": p.period.kind, "period": p.period.label(), "format": "xlsx",
                                           "file": target.name})
    return target


def _cell(v: Any) -> Any:
    """Figures (percentages, averages, amounts) become numbers (their format is set on the cell);
    a dash (nothing to show) an empty cell."""
    if isinstance(v, dr.Figure):
        return v.value
    return None if isinstance(v, str) and v.startswith("—") else v


def _widths(ws: Any, rows: list[list[Any]]) -> None:
    """Each column as wide as its widest value (Chinese characters count twice), 8 to 40."""
    from rich.cells import cell_len

    def shown(v: Any) -> str:
        return "" if v is None else f"{v:%Y-%m-%d}" if isinstance(v, date) else str(v)

    for i in range(max((len(r) for r in rows), default=0)):
        width = max((cell_len(shown(r[i])) for r in rows if i < len(r)), default=0) + 2
        ws.column_dimensions[ws.cell(1, i + 1).column_letter].width = min(40, max(8, width))

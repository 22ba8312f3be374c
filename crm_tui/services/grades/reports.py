"""Grade changes per period (report and XLSX export) and erasure (R-CUST-13)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from crm_tui.domain import grades as dg
from crm_tui.domain.errors import ValidationError, ValidationErrors
from crm_tui.i18n import N_, _
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.services.customers import register_erase_hook
from crm_tui.services.files import private_file
from crm_tui.services.grades.common import Report, _dt, _standard_in
from crm_tui.store.queries import grades as q

# ------------------------------------------------------------------------------------------------
# Report (changes per period) and export
# ------------------------------------------------------------------------------------------------


def report(svc: Services, actor: Actor, start: date, end: date) -> Report:
    """Applications filed between ``start`` and ``end`` (inclusive): how many went up, down, were
    rejected, applied late, and the average time from filing to the final approval. Needs grade.view."""
    svc.require(actor, "grade.view")
    if end < start:
        raise ValidationErrors([ValidationError("end_date", "The period cannot end before it starts")])
    with svc.store.read() as s:
        std = _standard_in(s)
        rows = q.report_rows(s, datetime.combine(start, datetime.min.time()),
                             datetime.combine(date.fromordinal(end.toordinal() + 1), datetime.min.time()))
    applied = [r for r in rows if r.state in (dg.APPLIED, dg.ACKNOWLEDGED)]
    dirs = [std.direction(r.from_grade, r.to_grade) for r in applied]
    hours = [((_dt(r.deputy_at) - _dt(r.filed_at)).total_seconds() / 3600)  # type: ignore[operator]
             for r in rows if r.deputy_at]
    table = [(r.customer_number, r.customer_name if not r.customer_erased else _("(erased)"), std.label(r.from_grade),
              std.label(r.to_grade), _(dg.STATE_LABELS[r.state]), str(r.filed_at)[:16],
              str(r.applied_at)[:16] if r.applied_at else "") for r in rows]
    return Report(start, end, len(rows), len(applied), dirs.count("up"), dirs.count("down"), dirs.count("new"),
                  sum(r.state == dg.REJECTED for r in rows), sum(r.state in dg.OPEN_STATES for r in rows),
                  sum(1 for r in applied if r.apply_due and _dt(r.applied_at) > _dt(r.apply_due)),  # type: ignore[operator]
                  round(sum(hours) / len(hours), 1) if hours else None, table)


def export_report(svc: Services, actor: Actor, start: date, end: date, path: str | Path) -> Path:
    """The report as XLSX (a summary sheet and one row per application). Needs report.view; audited."""
    svc.require(actor, "report.view")
    rep = report(svc, actor, start, end)
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = _("Summary")[:31]
    for label, value in ((N_("From"), rep.start.isoformat()), (N_("To"), rep.end.isoformat()),
                         (N_("Applications filed"), rep.filed), (N_("Applied"), rep.applied), (N_("Up"), rep.up),
                         (N_("Down"), rep.down), (N_("First grade"), rep.new), (N_("Rejected"), rep.rejected),
                         (N_("Still open"), rep.open), (N_("Applied late"), rep.applied_late),
                         (N_("Average hours from filing to final approval"),
                          "" if rep.avg_approval_hours is None else rep.avg_approval_hours)):
        ws.append([_(label), value])
    sheet = wb.create_sheet(_("Applications")[:31])
    sheet.append([_("Customer number"), _("Name"), _("From grade"), _("To grade"), _("State"), _("Filed"),
                  _("Applied")])
    for row in rep.rows:
        sheet.append(list(row))
    target = Path(path)
    with private_file(target) as fh:
        wb.save(fh)
    with svc.write(actor) as tx:
        tx.audit("grade.report_export", details={"start": start.isoformat(), "end": end.isoformat(),
                                                 "rows": len(rep.rows)})
    return target


@register_erase_hook("grades")
def _erase_grade_texts(tx: Tx, customer_id: int) -> list[str]:
    """R-CUST-13: an erased customer's applications keep grades, states, people and times (the
    internal-control filing stays complete); the free texts about the customer are destroyed."""
    n = q.erase_texts(tx.session, customer_id)
    return ["grade_application"] if n else []

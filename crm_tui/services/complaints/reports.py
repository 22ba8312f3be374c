"""The complaints report (R-KPI-1, R-CMP-6) and its export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from crm_tui.domain import complaints as dc
from crm_tui.domain.errors import ValidationError, ValidationErrors
from crm_tui.i18n import N_, _
from crm_tui.services.complaints.common import calendar
from crm_tui.services.context import PERMISSION_LABELS, Actor, Services
from crm_tui.services.files import private_file
from crm_tui.store.queries import complaints as q

# ------------------------------------------------------------------------------------------------
# Reports (R-KPI-1, R-CMP-6)
# ------------------------------------------------------------------------------------------------

PERMISSION_LABELS.setdefault("report.view", N_("view reports"))


@dataclass(frozen=True)
class ComplaintReport:
    """Tickets received in ``[start, end)``. Counts are (label, count) pairs, largest first
    (months in order). Hours are working hours, pauses excluded; shares are 0..1 or None, and
    count a limit still running past its deadline as missed."""

    start: datetime
    end: datetime
    total: int
    by_category: list[tuple[str, int]]
    by_channel: list[tuple[str, int]]
    by_severity: list[tuple[str, int]]
    by_month: list[tuple[str, int]]
    median_respond_hours: float | None
    median_resolve_hours: float | None
    respond_within: float | None
    resolve_within: float | None
    satisfaction_by_handler: list[tuple[str, float, int]]  # (handler, average 1-5, visits)
    repeat_customers: list[tuple[str, str, int]]  # (customer number, name, tickets)


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    v = sorted(values)
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def _ranked(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def report(svc: Services, actor: Actor, start: datetime, end: datetime) -> ComplaintReport:
    """Complaints by category, channel, severity and month; median working hours to respond and to
    feed back; the share handled within the time limits; satisfaction by handler; customers who
    complained more than once. Needs report.view."""
    svc.require(actor, "report.view")
    if end <= start:
        raise ValidationErrors([ValidationError("period", "The period must end after it starts")])
    pol = dc.load_policy()
    cal = calendar(svc)
    with svc.store.read() as s:
        rows = q.report_rows(s, start, end)
        pauses = q.pauses_of(s, [r.id for r in rows])
    cats: dict[str, int] = {}
    chans: dict[str, int] = {}
    sevs: dict[str, int] = {}
    months: dict[str, int] = {}
    respond_h: list[float] = []
    resolve_h: list[float] = []
    rmet: list[bool] = []
    smet: list[bool] = []
    sat: dict[str, list[int]] = {}
    per_customer: dict[int, tuple[str, str, int]] = {}
    for r in rows:
        cat = pol.categories[r.category].label if r.category in pol.categories else r.category
        ch = pol.channels[r.channel].label if r.channel in pol.channels else r.channel
        sev = pol.severities[r.severity].label if r.severity in pol.severities else r.severity
        cats[cat] = cats.get(cat, 0) + 1
        chans[ch] = chans.get(ch, 0) + 1
        sevs[sev] = sevs.get(sev, 0) + 1
        received = r.received_at
        assert received is not None
        months[f"{received:%Y-%m}"] = months.get(f"{received:%Y-%m}", 0) + 1
        ps = [(a, b if b is not None else svc.now()) for a, b in pauses.get(r.id, [])]
        responded, resolve_from, fed = r.responded_at, r.resolve_from, r.feedback_at
        if responded is not None:
            respond_h.append(cal.working_minutes_between(received, responded, ps) / 60)
        if fed is not None:
            resolve_h.append(cal.working_minutes_between(resolve_from or received, fed, ps) / 60)
        late = r.due_at is not None and r.due_at < svc.now()
        if r.respond_met is not None:
            rmet.append(r.respond_met)
        elif responded is None and late:
            rmet.append(False)  # still unanswered past its limit
        if r.resolve_met is not None:
            smet.append(r.resolve_met)
        elif responded is not None and fed is None and late:
            smet.append(False)  # still not fed back past its limit
        name = r.customer_name if not r.customer_erased else _("(erased)")
        num, nm, n = per_customer.get(r.customer_id, (r.customer_number, name, 0))
        per_customer[r.customer_id] = (num, nm, n + 1)
    with svc.store.read() as s:  # R-CMP-6: every return visit of the period, reopened tickets' too
        for handler, score in q.visit_scores(s, start, end):
            sat.setdefault(handler or "—", []).append(score)
    return ComplaintReport(
        start, end, len(rows), _ranked(cats), _ranked(chans), _ranked(sevs), sorted(months.items()),
        _median(respond_h), _median(resolve_h),
        sum(rmet) / len(rmet) if rmet else None, sum(smet) / len(smet) if smet else None,
        sorted(((h, sum(v) / len(v), len(v)) for h, v in sat.items()), key=lambda t: (-t[1], t[0])),
        sorted((v for v in per_customer.values() if v[2] > 1), key=lambda t: (-t[2], t[0])),
    )


def export_report(svc: Services, actor: Actor, rep: ComplaintReport, path: str | Path) -> Path:
    """Write the report to an .xlsx workbook (one sheet per table). Needs report.view; audited."""
    svc.require(actor, "report.view")
    from openpyxl import Workbook

    target = Path(path).expanduser()
    if target.suffix.lower() != ".xlsx":
        raise ValidationErrors([ValidationError("path", "The report is written as an .xlsx file")])
    if not target.parent.is_dir():
        raise ValidationErrors([ValidationError("path", "The folder {folder} does not exist",
                                                folder=str(target.parent))])
    wb = Workbook()
    ws = wb.active
    ws.title = _("Summary")[:31]
    period = f"{rep.start:%Y-%m-%d} – {rep.end:%Y-%m-%d}"
    pct = lambda x: "" if x is None else round(x * 100, 1)  # noqa: E731
    hours = lambda x: "" if x is None else round(x, 1)  # noqa: E731
    for line in ((_("Period"), period), (_("Complaints"), rep.total),
                 (_("Median working hours to respond"), hours(rep.median_respond_hours)),
                 (_("Median working hours to feed back"), hours(rep.median_resolve_hours)),
                 (_("Responded within the limit (%)"), pct(rep.respond_within)),
                 (_("Fed back within the limit (%)"), pct(rep.resolve_within))):
        ws.append(list(line))
    for title, header, data in (
        (_("By category"), [_("Complaint category"), _("Complaints")], rep.by_category),
        (_("By channel"), [_("Channel"), _("Complaints")], rep.by_channel),
        (_("By severity"), [_("Severity"), _("Complaints")], rep.by_severity),
        (_("By month"), [_("Month"), _("Complaints")], rep.by_month),
        (_("Satisfaction by handler"), [_("Handler"), _("Average satisfaction"), _("Return visits")],
         [(h, round(a, 2), n) for h, a, n in rep.satisfaction_by_handler]),
        (_("Repeated complaints"), [_("Number"), _("Customer"), _("Complaints")], rep.repeat_customers),
    ):
        sheet = wb.create_sheet(title[:31])
        sheet.append(header)
        for row in data:
            sheet.append(list(row))
    try:
        with private_file(target) as fh:
            wb.save(fh)
    except OSError as e:
        raise ValidationErrors([ValidationError("path", "Could not write {path}: {reason}", path=str(target),
                                                reason=e.strerror or type(e).__name__)]) from None
    with svc.write(actor) as tx:
        tx.audit("complaint.report_export", details={"period": period, "tickets": rep.total, "file": target.name})
    return target

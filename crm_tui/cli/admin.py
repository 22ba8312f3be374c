"""The administration commands: the audit trail, settings, the holiday schedule (``calendar``) and
second-person approvals (``approval``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from crm_tui.cli import common
from crm_tui.cli.common import _out, _pad, _signed_in, app, audit_app, settings_app
from crm_tui.i18n import _


# -- audit ---------------------------------------------------------------------------------------

@audit_app.command("verify")
def audit_verify() -> None:
    """Check the whole hash chain; non-zero exit naming the first broken row."""
    from crm_tui.services import audit

    svc, actor = _signed_in()
    try:
        report = audit.verify_chain(svc, actor)
    finally:
        svc.close()
    if report.first_broken is None:
        _out(_("Audit trail intact: {rows} rows, head {head}.", rows=report.rows, head=report.head[:16]))
        return
    _out(_("Audit trail BROKEN at row {id} ({reason}); {rows} rows before it are intact.",
           id=report.first_broken, reason=report.reason_text, rows=report.rows))
    raise typer.Exit(1)


@audit_app.command("list")
def audit_list(
    by: Annotated[Optional[str], typer.Option("--by", help="Staff user name.")] = None,
    customer: Annotated[Optional[int], typer.Option("--customer", help="Customer id.")] = None,
    action: Annotated[Optional[str], typer.Option("--action", help="Action, or its prefix (e.g. auth.).")] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="From date, YYYY-MM-DD.")] = None,
    until: Annotated[Optional[str], typer.Option("--until", help="To date inclusive, YYYY-MM-DD.")] = None,
    limit: Annotated[int, typer.Option("--limit")] = 100,
) -> None:
    """Audit entries, newest first, filtered by user, customer, action and date."""
    from crm_tui.services import audit

    svc, actor = _signed_in()
    try:
        rows = audit.list_entries(svc, actor, audit.AuditFilter(by, customer, action, since, until), limit)
    finally:
        svc.close()
    for r in rows:
        _out(f"{r.id:>7} {r.at:%Y-%m-%d %H:%M:%S} {_pad(r.actor, 12)} {_pad(r.action, 24)} {r.summary}")


@settings_app.command("list")
def settings_list() -> None:
    """Every setting with its current value."""
    from crm_tui.services import settings

    svc, actor = _signed_in()
    try:
        values = settings.current(svc)
    finally:
        svc.close()
    for key, value in values.items():
        _out(f"{_pad(key, 34)} {value}")


@settings_app.command("set")
def settings_set(key: str, value: str) -> None:
    """Change one setting (audited)."""
    from crm_tui.services import settings

    svc, actor = _signed_in()
    try:
        new = settings.set_setting(svc, actor, key, value)
    finally:
        svc.close()
    _out(f"{key} = {new}")


calendar_app = typer.Typer(help="The holiday schedule (节假日安排): days off and make-up working days per year.",
                           no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")


def _print_change(change) -> None:  # type: ignore[no-untyped-def]
    _out(_("Holiday schedule saved: {added} added, {changed} changed, {removed} removed, {same} unchanged.",
           added=change.added, changed=change.changed, removed=change.removed, same=change.unchanged))
    if change.moved:
        _out(_("{n} open deadline(s) moved:", n=len(change.moved)))
        for m in change.moved[:50]:
            _out(f"  {m.label}  {m.old} -> {m.new}")
        if len(change.moved) > 50:
            _out("  " + _("... and {n} more (see the audit trail)", n=len(change.moved) - 50))


@calendar_app.command("show")
def calendar_show(year: Annotated[int, typer.Argument(help="The year, e.g. 2027.")]) -> None:
    """A year's days off (休) and make-up working days (班), each with where it comes from: the shipped
    chinese-calendar package or the branch's own schedule."""
    from crm_tui.services import holidays, system

    svc = system.open_services(common._place())
    try:
        sched = holidays.year_schedule(svc, year)
    finally:
        svc.close()
    if not sched.covered:
        _out(_("No holiday schedule for {year}: only weekends count as days off. Load one with: {hint}",
               year=year, hint=_(holidays.FIX_HINT)))
        return
    for title, entries in ((_("Days off (休)"), sched.days_off), (_("Make-up working days (班)"), sched.workdays)):
        _out(f"{title}: {len(entries)}")
        for e in entries:
            src = _("branch") if e.source == "branch" else _("package")
            _out(f"  {e.day.isoformat()} {_weekday(e.day)}  {_pad(e.name_label, 16)}  {src}")


def _weekday(d) -> str:  # type: ignore[no-untyped-def]
    from crm_tui.services.holidays import WEEKDAYS

    return _(WEEKDAYS[d.weekday()])


@calendar_app.command("import")
def calendar_import(file: Path) -> None:
    """Load a schedule file (CSV in UTF-8 or GBK, or XLSX) with the columns 日期, 类型 (休 or 班) and
    名称. Its rows become the branch's schedule of the years they cover; a bad row is named with its
    row number and nothing is written (administrators, --user NAME)."""
    from crm_tui.services import holidays

    svc, actor = _signed_in()
    try:
        change = holidays.import_file(svc, actor, file)
    finally:
        svc.close()
    _print_change(change)


@calendar_app.command("set")
def calendar_set(
    day: Annotated[str, typer.Argument(help="The date, YYYY-MM-DD.")],
    kind: Annotated[str, typer.Argument(help="休 (day off) or 班 (make-up working day).")],
    name: Annotated[str, typer.Argument(help="The holiday's name, e.g. 春节.")],
) -> None:
    """Make one day a day off or a make-up working day (administrators, --user NAME)."""
    from crm_tui.services import holidays

    svc, actor = _signed_in()
    try:
        change = holidays.set_day(svc, actor, day, kind, name)
    finally:
        svc.close()
    _print_change(change)


@calendar_app.command("unset")
def calendar_unset(day: Annotated[str, typer.Argument(help="The date, YYYY-MM-DD.")]) -> None:
    """Remove the branch's entry of one day; the package's schedule applies again (administrators)."""
    from crm_tui.services import holidays

    svc, actor = _signed_in()
    try:
        change = holidays.unset_day(svc, actor, day)
    finally:
        svc.close()
    _print_change(change)


# -- approvals of sensitive operations (R-SEC-2) ---------------------------------------------------

approval_app = typer.Typer(help="Second-person approval of sensitive operations (R-SEC-2).", no_args_is_help=True)
app.add_typer(approval_app, name="approval")


def _approval_line(v) -> str:  # type: ignore[no-untyped-def]
    decided = f" {v.decided_by} {v.decided_at:%Y-%m-%d %H:%M}" if v.decided_at else ""
    return (f"{v.id:>5}  {_pad(v.state_label, 8)} {_pad(v.operation, 22)} {_pad(v.target or '-', 24)}"
            f" {_pad(v.requester, 12)} {v.requested_at:%Y-%m-%d %H:%M}{decided}  {v.reason}")


@approval_app.command("request")
def approval_request(
    operation: str,
    reason: Annotated[str, typer.Option("--reason", help="Why the operation is needed.")],
    target: Annotated[Optional[str], typer.Option("--target", help="Customer number (erase, reveal) or backup file (restore).")] = None,
) -> None:
    """Ask for approval: customer.export, customer.erase, backup.restore, customer.reveal_other,
    customer.destroy_batch."""
    from crm_tui.services import approvals

    svc, actor = _signed_in()
    try:
        rid = approvals.request(svc, actor, operation, reason, target=target)
    finally:
        svc.close()
    _out(_("Approval request {id} sent; a section chief or an administrator decides it.", id=rid))


@approval_app.command("list")
def approval_list(
    pending: Annotated[bool, typer.Option("--pending", help="Only requests waiting for a decision.")] = False,
) -> None:
    """The queue (approvers see every request, others their own), newest first."""
    from crm_tui.services import approvals

    svc, actor = _signed_in()
    try:
        rows = approvals.list_requests(svc, actor, pending_only=pending)
    finally:
        svc.close()
    if not rows:
        _out(_("No approval requests."))
    for v in rows:
        _out(_approval_line(v))


@approval_app.command("approve")
def approval_approve(
    request_id: int,
    note: Annotated[str, typer.Option("--note", help="A note kept with the decision.")] = "",
) -> None:
    """Approve a request (not one's own); the requester may then run the operation once."""
    from crm_tui.services import approvals

    svc, actor = _signed_in()
    try:
        approvals.approve(svc, actor, request_id, note)
    finally:
        svc.close()
    _out(_("Request {id} approved.", id=request_id))


@approval_app.command("reject")
def approval_reject(
    request_id: int,
    reason: Annotated[str, typer.Option("--reason", help="Why it is rejected.")],
) -> None:
    """Reject a request, with the reason."""
    from crm_tui.services import approvals

    svc, actor = _signed_in()
    try:
        approvals.reject(svc, actor, request_id, reason)
    finally:
        svc.close()
    _out(_("Request {id} rejected.", id=request_id))

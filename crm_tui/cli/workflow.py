"""Review packs and workflow rules: ``report``, the register check (``register ...``, R-FU-4), the
contact plan and the grade standard (``grades ...``, R-GRD-1)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from crm_tui.cli.common import _out, _pad, _signed_in, app
from crm_tui.domain.errors import CrmError
from crm_tui.i18n import _


@app.command("report")
def report_cmd(
    kind: Annotated[str, typer.Argument(help="week or month")],
    day: Annotated[Optional[str], typer.Option("--date", help="A day in the period, YYYY-MM-DD (default: today).")] = None,
    xlsx: Annotated[Optional[Path], typer.Option("--xlsx", help="Write the pack to this .xlsx file.")] = None,
    text_file: Annotated[Optional[Path], typer.Option("--text", help="Write the plain-text pack to this .txt file.")] = None,
) -> None:
    """The weekly or monthly review pack (R-FU-5, R-KPI-1/2): printed as text, or written to
    --xlsx / --text (staff who may view reports, --user NAME)."""
    from datetime import date as _date

    from crm_tui.services import reports

    if kind not in ("week", "month"):
        raise CrmError("A report period is a week or a month")
    try:
        when = _date.fromisoformat(day) if day else None
    except ValueError:
        raise CrmError("Write the date as YYYY-MM-DD") from None
    svc, actor = _signed_in()
    try:
        pack = reports.pack(svc, actor, kind, when)
        if xlsx is None and text_file is None:
            _out(reports.pack_text(pack).rstrip())
        if xlsx is not None:
            _out(_("Exported to {path}", path=str(reports.export_xlsx(svc, actor, pack, xlsx))))
        if text_file is not None:
            _out(_("Exported to {path}", path=str(reports.export_text(svc, actor, pack, text_file))))
    finally:
        svc.close()


register_app = typer.Typer(help="The front-desk register: the supervisors' daily check (R-FU-4).",
                           no_args_is_help=True)
app.add_typer(register_app, name="register")


def _cli_day(day: Optional[str]):  # type: ignore[no-untyped-def]
    from datetime import date as _date

    try:
        return _date.fromisoformat(day) if day else None
    except ValueError:
        raise CrmError("Write the date as YYYY-MM-DD") from None


@register_app.command("unregistered")
def register_unregistered(
    day: Annotated[Optional[str], typer.Option("--date", help="The day to check, YYYY-MM-DD (default: today).")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only the items not yet resolved.")] = False,
) -> None:
    """The day's visits, cards and contacts without a register line, and how each was resolved
    (supervisors, --user NAME)."""
    from crm_tui.services import register_check

    when = _cli_day(day)
    svc, actor = _signed_in()
    try:
        when = when or svc.now().date()
        items = register_check.unregistered(svc, actor, when, include_resolved=not open_only)
    finally:
        svc.close()
    if not items:
        _out(_("Every visitor of {day} is in the register.", day=when.isoformat()))
        return
    for i in items:
        state = (_("linked to line {id}", id=i.register_id) if i.register_id else _("marked: {reason}", reason=i.reason)) \
            if i.resolved else _("OPEN")
        _out(f"{_pad(i.kind, 8)} {i.ref_id:>6} {i.at:%H:%M} {_pad(i.customer_number, 12)} {_pad(i.customer_name, 10)} "
             f"{_pad(i.staff, 8)} {_pad(i.method, 12)} {state}")


@register_app.command("resolve")
def register_resolve(
    kind: Annotated[str, typer.Argument(help="visit, card or contact")],
    ref_id: Annotated[int, typer.Argument(help="The item's number in the listing.")],
    day: Annotated[Optional[str], typer.Option("--date", help="The day of the item, YYYY-MM-DD (default: today).")] = None,
    line: Annotated[Optional[int], typer.Option("--line", help="Link this register line of that day.")] = None,
    reason: Annotated[str, typer.Option("--reason", help="Or: why there is no register line.")] = "",
) -> None:
    """Resolve an item of the check: link a register line, or mark it with a reason."""
    from crm_tui.services import register_check

    when = _cli_day(day)
    svc, actor = _signed_in()
    try:
        register_check.resolve(svc, actor, kind, ref_id, when or svc.now().date(), register_id=line, reason=reason)
    finally:
        svc.close()
    _out(_("Resolved."))


grades_app = typer.Typer(help="Grades: the contact plan and the grade standard's approvals (R-GRD-1).",
                         no_args_is_help=True)
app.add_typer(grades_app, name="grades")


@grades_app.command("contact-plan")
def grades_contact_plan(
    all_: Annotated[bool, typer.Option("--all", help="Every graded customer, not only those due.")] = False,
) -> None:
    """Customers whose next contact is due (or overdue) by their grade's contact frequency."""
    from crm_tui.services import grades

    svc, actor = _signed_in()
    try:
        rows = grades.contact_plan(svc, actor, due_only=not all_)
    finally:
        svc.close()
    for r in rows:
        last = f"{r.last_contact:%Y-%m-%d}" if r.last_contact else "-"
        _out(f"{_pad(r.number, 12)} {_pad(r.name, 10)} {_pad(r.grade, 4)} {last:10} {r.due.isoformat()} "
             f"{r.days_over if r.days_over > 0 else '':>4} {r.owner}")


@grades_app.command("standard-changes")
def grades_standard_changes() -> None:
    """Proposed changes of the grade standard and their approvals."""
    from crm_tui.services import grades

    svc, actor = _signed_in()
    try:
        rows = grades.standard_changes(svc, actor)
    finally:
        svc.close()
    for c in rows:
        _out(f"{c.id:>4} {c.proposed_at:%Y-%m-%d %H:%M} {_pad(c.proposed_by, 8)} {_pad(c.state_label, 24)} {c.reason}")
        for code, (old, new) in c.changes.items():
            _out(f"       {code}: {old} -> {new}")


@grades_app.command("standard-decide")
def grades_standard_decide(
    change_id: int,
    approve: Annotated[bool, typer.Option("--approve/--reject", help="Approve, or reject with --comment.")] = True,
    comment: Annotated[str, typer.Option("--comment")] = "",
) -> None:
    """Section chief, then deputy manager: approve or reject a proposed grade standard."""
    from crm_tui.services import grades

    svc, actor = _signed_in()
    try:
        state = grades.decide_standard_change(svc, actor, change_id, approve, comment)
    finally:
        svc.close()
    _out(_(grades.STANDARD_STATES[state]))

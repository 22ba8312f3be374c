"""The incident register (``incident ...``, R-SEC-6)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from crm_tui.cli.common import _out, _pad, _signed_in, app
from crm_tui.domain.errors import CrmError
from crm_tui.i18n import _


incident_app = typer.Typer(help="The incident register: leaks and losses, affected customers, notices (R-SEC-6).",
                           no_args_is_help=True)
app.add_typer(incident_app, name="incident")


@incident_app.command("new")
def incident_new(
    title: Annotated[str, typer.Option("--title", help="A short name for what happened.")],
    description: Annotated[str, typer.Option("--description", help="What happened.")],
    found: Annotated[str, typer.Option("--found", help="When it was found: YYYY-MM-DD HH:MM.")],
    measures: Annotated[str, typer.Option("--measures", help="Measures taken so far.")] = "",
) -> None:
    """Record a leak or loss."""
    from crm_tui.services import incidents

    svc, actor = _signed_in()
    try:
        iid = incidents.new_incident(svc, actor, title, description, found, measures)
    finally:
        svc.close()
    _out(_("Incident {id} recorded.", id=iid))


@incident_app.command("list")
def incident_list() -> None:
    """Open incidents first, then closed ones."""
    from crm_tui.services import incidents

    svc, actor = _signed_in()
    try:
        rows = incidents.list_incidents(svc, actor)
    finally:
        svc.close()
    if not rows:
        _out(_("No incidents."))
    for r in rows:
        _out(f"{r.id:>4}  {_pad(r.state_label, 6)} {r.found_at:%Y-%m-%d %H:%M}  {r.notified}/{r.affected}  {r.title}")


@incident_app.command("show")
def incident_show(incident_id: int) -> None:
    """The incident, its measures and its affected customers with their notices."""
    from crm_tui.services import incidents

    svc, actor = _signed_in()
    try:
        typer.echo(incidents.report_text(svc, actor, incident_id), nl=False)
    finally:
        svc.close()


@incident_app.command("affected")
def incident_affected(
    incident_id: int,
    query: Annotated[Optional[str], typer.Option("--query", help="A search, as in the customer list.")] = None,
    numbers: Annotated[Optional[str], typer.Option("--numbers", help="Customer numbers, comma separated.")] = None,
) -> None:
    """Add the affected customers, by a search and/or by customer numbers."""
    from crm_tui.services import incidents

    svc, actor = _signed_in()
    try:
        n = incidents.set_affected(svc, actor, incident_id, query=query,
                                   numbers=[x for x in (numbers or "").split(",") if x.strip()])
    finally:
        svc.close()
    _out(_("{n} affected customers added.", n=n))


@incident_app.command("measures")
def incident_measures(incident_id: int, measures: str) -> None:
    """Add a measure taken (with the time and your name)."""
    from crm_tui.services import incidents

    svc, actor = _signed_in()
    try:
        incidents.add_measures(svc, actor, incident_id, measures)
    finally:
        svc.close()
    _out(_("Measure recorded."))


@incident_app.command("notice")
def incident_notice(
    incident_id: int,
    number: str,
    by: Annotated[str, typer.Option("--by", help="Who told the customer.")],
    at: Annotated[str, typer.Option("--at", help="When: YYYY-MM-DD HH:MM.")],
    method: Annotated[str, typer.Option("--method", help="How: phone, visit, letter, SMS ...")],
    note: Annotated[str, typer.Option("--note")] = "",
) -> None:
    """Record that an affected customer was told."""
    from crm_tui.services import incidents

    svc, actor = _signed_in()
    try:
        incidents.record_notice(svc, actor, incident_id, number, told_by=by, told_at=at, method=method, note=note)
    finally:
        svc.close()
    _out(_("Notice to {number} recorded.", number=number))


@incident_app.command("close")
def incident_close(
    incident_id: int,
    report: Annotated[Optional[str], typer.Option("--report", help="The closing report.")] = None,
    report_file: Annotated[Optional[Path], typer.Option("--report-file", help="Read the closing report from a text file.")] = None,
) -> None:
    """Close the incident with its report."""
    from crm_tui.services import incidents

    if report_file is not None:
        try:
            report = report_file.read_text(encoding="utf-8")
        except OSError as e:
            raise CrmError("Cannot read {path}: {reason}", path=str(report_file), reason=e.strerror or str(e)) from None
    svc, actor = _signed_in()
    try:
        incidents.close(svc, actor, incident_id, report or "")
    finally:
        svc.close()
    _out(_("Incident {id} closed.", id=incident_id))


@incident_app.command("report")
def incident_report(
    incident_id: int,
    to: Annotated[Optional[Path], typer.Option("--to", help="Write the report to this text file (0600).")] = None,
) -> None:
    """The incident report as text (standard output, or a file)."""
    import os

    from crm_tui.services import incidents

    svc, actor = _signed_in()
    try:
        body = incidents.report_text(svc, actor, incident_id)
    finally:
        svc.close()
    if to is None:
        typer.echo(body, nl=False)
        return
    fd = os.open(to, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(body)
    _out(_("Report written to {path}.", path=str(to)))


# -- issue 20: workflow rules (R-FU-4 register check; R-GRD-1 contact plan and grade standard) -----

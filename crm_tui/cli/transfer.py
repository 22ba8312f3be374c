"""Import and export of customers (issue 9): ``import customers``, ``export customers``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from crm_tui.cli.common import _out, _pad, _signed_in, app
from crm_tui.i18n import _


# -- import and export (issue 9) ------------------------------------------------------------------

import_app = typer.Typer(help="Import customers from CSV (UTF-8, GBK) or XLSX spreadsheets (administrators).",
                         no_args_is_help=True)
export_app = typer.Typer(help="Export lists to CSV or XLSX (permission customer.export).", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")


@import_app.command("customers")
def import_customers(
    file: Path,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row and report; write nothing.")] = False,
    mapping: Annotated[Optional[str], typer.Option("--mapping", help="Use a saved column mapping by name.")] = None,
    map_: Annotated[Optional[list[str]], typer.Option("--map", help="Map a column: HEADER=field (repeatable; overrides).")] = None,
    save_mapping: Annotated[Optional[str], typer.Option("--save-mapping", help="Save the mapping used under this name.")] = None,
    valid_only: Annotated[bool, typer.Option("--valid-only", help="Import the valid rows and list the bad ones (default: all or nothing).")] = False,
    errors_to: Annotated[Optional[Path], typer.Option("--errors-to", help="Write the error and duplicate report to this CSV file.")] = None,
    duplicates: Annotated[str, typer.Option("--duplicates", help="Rows already in the archive: 'list' them for decision (default) or 'fill' the archive's blank fields from them.")] = "list",
) -> None:
    """Import customers: automatic column mapping from Chinese/English headers, a dry run with errors
    by row, then every row or nothing (or --valid-only). Duplicates are listed, never overwritten."""
    import threading

    from crm_tui.services import importing

    svc, actor = _signed_in()
    try:
        table = importing.read_file(file)
        used = importing.load_mapping(svc, actor, mapping) if mapping else importing.auto_mapping(table.headers)
        used.update(importing.parse_mapping_args(map_ or []))
        _out(_("{name}: {rows} rows, {encoding}.", name=table.name, rows=len(table.rows), encoding=table.encoding_label))
        for h in table.headers:
            f = used.get(h)
            _out("  " + _pad(h, 20) + " -> " + (importing.header_label(f) + f" ({f})" if f else _("(not imported)")))
        p = importing.plan(svc, actor, table, used)
        if save_mapping:
            importing.save_mapping(svc, actor, save_mapping, used)
        _out(_("Dry run: {ready} rows ready, {bad} rows with errors, {dups} duplicates of existing customers.",
               ready=len(p.ready), bad=p.bad_rows, dups=len(p.duplicates)))
        for e in p.errors[:50]:
            _out("  " + _("row {row}, column {column}: {reason}", row=e.row, column=e.column, reason=e.reason))
        if len(p.errors) > 50:
            _out("  " + _("... and {n} more (see --errors-to)", n=len(p.errors) - 50))
        for d in p.duplicates[:50]:
            _out("  " + _("row {row}: {name} is already customer {number} (same {what}); not imported",
                          row=d.row, name=d.name, number=d.existing_number, what=importing.header_label(d.matched)))
        if errors_to:
            _write_report(errors_to, p)
        if dry_run:
            raise typer.Exit(1 if p.errors else 0)
        cancel = threading.Event()
        try:
            result = importing.run(svc, actor, p, all_or_nothing=not valid_only, cancel=cancel, duplicates=duplicates)
        except KeyboardInterrupt:
            cancel.set()
            raise
    finally:
        svc.close()
    _out(_("Imported {n} customers in {s:.1f} s ({rate:.0f} rows/s); backup before the import: {backup}.",
           n=result.imported, s=result.seconds, rate=result.rows_per_second, backup=result.backup or "-"))
    if result.filled:
        _out(_("Blank fields of {n} existing customers were filled from their rows.", n=result.filled))


def _write_report(path: Path, p) -> None:  # type: ignore[no-untyped-def]
    import csv

    from crm_tui.services import importing
    from crm_tui.services.files import private_file

    with private_file(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([_("Row"), _("Column"), _("Problem")])
        for e in p.errors:
            w.writerow([e.row, e.column, e.reason])
        for d in p.duplicates:
            w.writerow([d.row, "", _("{name} is already customer {number} (same {what}); not imported",
                                     name=d.name, number=d.existing_number, what=importing.header_label(d.matched))])


@export_app.command("customers")
def export_customers(
    to: Annotated[Path, typer.Option("--to", help="Target file, .xlsx or .csv (UTF-8 with BOM for Excel).")],
    query: Annotated[str, typer.Option("--query", help="Search text, as in the customer list.")] = "",
    approval: Annotated[Optional[int], typer.Option("--approval", help="Id of the approved request for this export (R-SEC-2).")] = None,
) -> None:
    """The customer list (R-CUST-12) with phones masked; audited."""
    from crm_tui.services import customers

    fmt = to.suffix.lower().lstrip(".")
    svc, actor = _signed_in()
    try:
        n = customers.export_list(svc, actor, query, customers.SearchFilters(), to, fmt=fmt, approval_id=approval)
    finally:
        svc.close()
    _out(_("Exported {n} customers to {path}.", n=n, path=str(to)))

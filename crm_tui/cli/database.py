"""Setting up and checking the database: ``init``, ``doctor``, ``demo`` and the key's recovery code
(``key export``, ``key import``)."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from crm_tui.cli import common
from crm_tui.cli.common import _ask_password, _out, _pad, _run_app, _signed_in, app, key_app
from crm_tui.domain.errors import CrmError
from crm_tui.i18n import _


@app.command()
def init(
    admin: Annotated[str, typer.Option("--admin", help="User name of the first administrator.")] = "admin",
    display_name: Annotated[Optional[str], typer.Option("--display-name")] = None,
) -> None:
    """Create the encrypted database, its key in the OS keyring, and the first administrator."""
    from crm_tui.services import system

    place = common._place()
    p1 = _ask_password(_("New password for {user}: ", user=admin))
    p2 = _ask_password(_("Repeat the password: "))
    if p1 != p2:
        raise CrmError("The two passwords differ; nothing was created.")
    db_file = system.init(place, admin, p1, display_name)
    _out(_("Created {path} (key in the {backend} keyring) with administrator {user}.",
           path=str(db_file), backend=place.key_store.describe(), user=admin))
    _out(_("Next: keep the recovery code in a sealed envelope: crm-tui --user {user} key export", user=admin))


@app.command()
def doctor(
    rebuild_summary: Annotated[bool, typer.Option(
        "--rebuild-summary", help="Refill the home screen's summary counts from the records if they differ.")] = False,
) -> None:
    """Check the keyring, the key, the database, its integrity, schema, summary counts and newest backup."""
    from crm_tui.services import system

    checks = system.doctor(common._place(), rebuild_summary=rebuild_summary)
    from rich.cells import cell_len

    width = max(cell_len(c.name) for c in checks)
    for c in checks:
        first, *more = c.detail.splitlines() or [""]
        _out(f"{('WARN' if c.warn else 'OK  ') if c.ok else 'FAIL'} {_pad(c.name, width)}  {first}")
        for line in more:  # a damaged file's restore advice: under the detail column
            _out(" " * (width + 7) + line)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


@app.command()
def demo(
    fresh: Annotated[bool, typer.Option("--fresh", help="Throw away the demo database and make a new one.")] = False,
    no_keyring: Annotated[bool, typer.Option("--no-keyring", help="Keep the demo key in memory only (throwaway).")] = False,
    setup_only: Annotated[bool, typer.Option("--setup-only", help="Build the demo database but do not start the app.")] = False,
) -> None:
    """Build (once) a demo database with realistic Chinese data and start the app on it."""
    from crm_tui import demo as demo_svc
    from crm_tui.services import system

    place, throwaway = system.make_demo_place(common.G.data_dir, use_keyring=not no_keyring)
    try:
        if fresh and place.db_file.exists():
            system.remove_demo(place)
            place = system.Place(place.data_dir, place.key_store)
            place.data_dir.mkdir(parents=True, mode=0o700, exist_ok=True)
        if throwaway:
            _out(_("No usable keyring: this demo keeps its key in memory and is deleted when the app exits."))
        if not place.db_file.exists():
            _out(_("Building the demo database in {path} ...", path=str(place.data_dir)))
            system.create_empty(place)
            svc = system.open_services(place, demo=True)
            try:
                demo_svc.seed(svc)
            finally:
                svc.close()
        if setup_only:
            _out(_("Demo database ready in {path}.", path=str(place.data_dir)))
            return
        _run_app(place, demo=True, throwaway=throwaway)
    finally:
        if throwaway:
            system.remove_demo(place)


@key_app.command("export")
def key_export() -> None:
    """Print the key once as a recovery code for a sealed envelope (administrator, password again)."""
    from crm_tui.services import system

    svc, actor = _signed_in()
    try:
        code = system.export_recovery_code(svc, actor, _ask_password(_("Confirm your password: ")), common._place().key_store)
    finally:
        svc.close()
    _out(_("Recovery code for {path}. Write it down or print it, seal it in an envelope, and keep it "
           "away from the computer. Anyone with this code and the file can read the data.",
           path=str(common._place().db_file)))
    _out()
    _out(code)


@key_app.command("import")
def key_import() -> None:
    """Read a recovery code from stdin, check that it opens the database, store it in the keyring."""
    from crm_tui.services import system

    if sys.stdin.isatty():
        _out(_("Type or paste the recovery code, then press Ctrl+D:"))
    code = sys.stdin.read()
    result = system.import_recovery_code(common._place(), code)
    _out({"unchanged": _("The keyring already holds this key; nothing changed."),
          "stored": _("The code opens the database; the key is now in the keyring."),
          "replaced": _("The code opens the database; it replaced the key the keyring held.")}[result])

"""Opening the database and starting the app: shared by ``crm-tui`` (crm_tui/start.py), the
commands that start it (cli.py: demo) and benchmarks/probe.py."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from crm_tui.services.context import Services
    from crm_tui.ui.app import CrmApp


def take_daily_backup(svc: Services) -> None:
    """The first start of each day takes a backup; a failure is said, and work goes on."""
    from crm_tui.domain.errors import CrmError
    from crm_tui.i18n import _
    from crm_tui.services import backup as backup_svc

    from crm_tui.services.damage import DamagedDatabase

    try:
        backup_svc.daily_backup_if_due(svc)
    except DamagedDatabase:  # the copy read every page: a damaged file does not start (issue 17)
        raise
    except (CrmError, OSError) as e:
        print(_("Warning: the daily backup failed: {reason}", reason=str(e)), file=sys.stderr)


def tidy_backup_folder(svc) -> None:  # type: ignore[no-untyped-def]
    """Leftovers of killed backups are tidied at start; a kept orphan is said, and work goes on."""
    from crm_tui.i18n import _
    from crm_tui.services import startup

    try:
        done = startup.tidy_backup_folder(svc)
    except OSError as e:
        print(_("Warning: the backups folder could not be tidied: {reason}", reason=str(e)), file=sys.stderr)
        return
    for name in done.kept:
        print(_("Warning: {name} in the backups folder has no manifest and does not open or check with the key; "
                "it was kept as it is.", name=name), file=sys.stderr)


def prepare_app(place=None, *, data_dir: Optional[Path] = None, lang: Optional[str] = None,  # type: ignore[no-untyped-def]
                demo: bool = False, throwaway: bool = False, daily_backup: bool = True) -> CrmApp:
    """Open the database and build the app, as ``crm-tui`` starts it (benchmarks/probe.py too).

    The file, key, lock and schema are checked here; the services load after the login screen
    shows (services/startup.py). The daily backup runs before the app."""
    from crm_tui.services import startup
    from crm_tui.ui.app import make_app

    if place is None:
        svc = startup.open_lazily(data_dir, demo=demo)
    else:
        svc = startup.open_lazily(place.data_dir, place.key_store, demo=demo)
    try:
        tidy_backup_folder(svc)
        if startup.unpublished_imports(svc):  # a killed import's hidden rows: removed, and said
            from crm_tui.services import system

            for note in system.discard_abandoned_imports(svc):  # type: ignore[arg-type]
                print(note, file=sys.stderr)
        if daily_backup and not startup.backup_taken_today(svc):
            take_daily_backup(svc)
        lang = lang or os.environ.get("CRM_TUI_LANG") or startup.stored_setting(svc, "ui", "language")
        return make_app(svc, demo=demo, throwaway=throwaway, lang=lang)  # type: ignore[arg-type]
    except BaseException:
        svc.close()
        raise


def run_app(place=None, *, data_dir: Optional[Path] = None, lang: Optional[str] = None,  # type: ignore[no-untyped-def]
            demo: bool = False, throwaway: bool = False, interactive: Optional[bool] = None) -> None:
    from crm_tui.services.damage import DamagedDatabase

    try:
        app = prepare_app(place, data_dir=data_dir, lang=lang, demo=demo, throwaway=throwaway)
    except DamagedDatabase as e:
        # In a terminal: the damage screen, with the restore there and then (ui/damage.py); without
        # one, or when the user leaves it, the message and the restore command, exit 19 (start.py)
        if interactive is None:
            interactive = sys.stdin.isatty() and sys.stdout.isatty()
        if not interactive or not restored_on_damage_screen(place, e, lang):
            raise
        app = prepare_app(place, data_dir=data_dir, lang=lang, demo=demo, throwaway=throwaway)
    try:
        app.run()
    finally:
        app.svc.close()


def restored_on_damage_screen(place, error, lang: Optional[str] = None) -> bool:  # type: ignore[no-untyped-def]
    """Show the damage screen; True when a restore there replaced the damaged file."""
    from crm_tui.services import system
    from crm_tui.ui.damage import damage_app

    if lang:
        from crm_tui.i18n import set_language

        set_language(lang)
    key_store = place.key_store if place is not None else system.os_key_store()
    return bool(damage_app(error.data_dir, key_store, error).run())

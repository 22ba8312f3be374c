"""What every command shares: the ``crm-tui`` Typer app and the groups made at its top, the global
options (``G``), passwords and lines from standard input, signing in, and printing."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from crm_tui.domain.errors import CrmError
from crm_tui.i18n import _, set_language
from crm_tui.ui import launch


app = typer.Typer(
    add_completion=False,
    no_args_is_help=False,
    help="crm-tui: encrypted, keyboard-driven customer management for a branch front desk.",
    epilog="Exit codes: 0 done, 1 error, 2 usage, 3 not allowed, 4 not found, 5 conflict, "
           "75 database busy (another process is writing, e.g. an import: try again), 70 unexpected error.",
    pretty_exceptions_enable=False,
)
key_app = typer.Typer(help="The database key: recovery code export and import.", no_args_is_help=True)
user_app = typer.Typer(help="Staff accounts (administrators).", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
app.add_typer(key_app, name="key")
app.add_typer(user_app, name="user")
settings_app = typer.Typer(help="Settings (administrators): idle lock, lockout, password age, language.",
                           no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(settings_app, name="settings")


class Globals:
    data_dir: Optional[Path] = None
    user: Optional[str] = None
    password_stdin: bool = False
    lang: Optional[str] = None
    _stdin_lines: Optional[list[str]] = None


G = Globals()


def _stdin_line() -> str:
    """Passwords and codes from stdin, one per line, read once in order."""
    if G._stdin_lines is None:
        G._stdin_lines = sys.stdin.read().splitlines()
    if not G._stdin_lines:
        raise CrmError("Expected another line on standard input.")
    return G._stdin_lines.pop(0)


def _ask_password(prompt: str) -> str:
    if G.password_stdin:
        return _stdin_line()
    return getpass.getpass(prompt)


def _place():  # type: ignore[no-untyped-def]
    from crm_tui.services import system

    return system.resolve(G.data_dir)


def _signed_in(*, password_change: bool = False):  # type: ignore[no-untyped-def]
    """(services, actor) for commands that act as a staff member. A one-time or expired password
    lets only ``user passwd`` through (``password_change``); every other command is refused, audited,
    before it does anything (R-SEC-1)."""
    from crm_tui.services import staff, system

    if not G.user:
        raise CrmError("This command acts as a staff member: give --user NAME (password prompted, or --password-stdin).")
    svc = system.open_services(_place())
    try:
        for note in system.discard_abandoned_imports(svc):  # a killed import's hidden rows (issue 17)
            typer.echo(note, err=True)
        signin = staff.sign_in(svc, G.user, _ask_password(_("Password for {user}: ", user=G.user)))
        if not password_change:
            svc.check_password_current(signin.actor)
    except BaseException:
        svc.close()
        raise
    return svc, signin.actor


def _pad(text: str, width: int) -> str:
    """Left-justify by terminal cells, so Chinese (two cells a character) lines up."""
    from rich.cells import cell_len

    return text + " " * max(0, width - cell_len(text))


def _out(text: str = "") -> None:
    typer.echo(text)


@app.callback(invoke_without_command=True)
def main_callback(
    ctx: typer.Context,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="Data folder (default: platform user data dir; env CRM_TUI_DATA_DIR).")] = None,
    user: Annotated[Optional[str], typer.Option("--user", help="Act as this staff account.")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read passwords from standard input, one per line.")] = False,
    lang: Annotated[Optional[str], typer.Option("--lang", help="UI language: zh_CN (default) or en.")] = None,
) -> None:
    _set_globals(data_dir, user, password_stdin, lang)
    if ctx.invoked_subcommand is None:
        _run_app()


def _set_globals(data_dir: Optional[Path], user: Optional[str], password_stdin: bool, lang: Optional[str]) -> None:
    G.data_dir, G.user, G.password_stdin, G.lang = data_dir, user, password_stdin, lang
    if lang:
        try:
            set_language(lang)
        except ValueError:
            raise CrmError("Unknown language '{lang}': use zh_CN or en.", lang=lang) from None


def _run_app(place=None, *, demo: bool = False, throwaway: bool = False) -> None:  # type: ignore[no-untyped-def]
    launch.run_app(place, data_dir=G.data_dir, lang=G.lang, demo=demo, throwaway=throwaway)


def prepare_app(place=None, *, demo: bool = False, throwaway: bool = False,  # type: ignore[no-untyped-def]
                daily_backup: bool = True):
    """``ui.launch.prepare_app`` with this command line's --data-dir and --lang."""
    return launch.prepare_app(place, data_dir=G.data_dir, lang=G.lang, demo=demo, throwaway=throwaway,
                             daily_backup=daily_backup)


def _code_text() -> str:
    if sys.stdin.isatty():
        _out(_("Type or paste the recovery code, then press Ctrl+D:"))
    return sys.stdin.read() if not G.password_stdin else "\n".join(_all_stdin())


def _all_stdin() -> list[str]:
    if G._stdin_lines is None:
        G._stdin_lines = sys.stdin.read().splitlines()
    lines, G._stdin_lines = G._stdin_lines, []
    return lines

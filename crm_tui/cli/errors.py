"""Errors said as one clear line and an exit code (``fail``), usage errors in the UI language
(issue 17), and the crash log for a real bug."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

from crm_tui.cli import common
from crm_tui.domain.errors import CrmError
from crm_tui.i18n import N_, _


def fail(e: BaseException) -> NoReturn:
    """One clear line and a non-zero exit for every error the user can act on."""
    if isinstance(e, CrmError):
        typer.echo(_("Error: {message}", message=e.message), err=True)
        for err in getattr(e, "errors", ()):  # ValidationErrors: say what is wrong, not only how much
            typer.echo(f"  {err.message}", err=True)
        sys.exit(e.exit_code)
    if isinstance(e, typer.Exit):
        sys.exit(e.exit_code)
    if isinstance(e, (typer.Abort, KeyboardInterrupt)):
        typer.echo(_("Cancelled."), err=True)
        sys.exit(130)
    if isinstance(e, EOFError):
        typer.echo(_("Error: standard input ended before all answers were read."), err=True)
        sys.exit(2)
    if _is_usage_error(e):
        _show_usage_error(e)
        sys.exit(2)
    if _is_click_exception(e):
        typer.echo(_("Error: {message}", message=e.format_message()), err=True)  # type: ignore[attr-defined]
        sys.exit(getattr(e, "exit_code", 1))
    if isinstance(e, Exception):
        from crm_tui.services import damage

        damaged = damage.from_error(common.G.data_dir, e)  # a query met a damaged page: said, with the restore command
        if damaged is not None:
            fail(damaged)
        _crash(e)  # last resort: one line, details in the crash log
    raise e  # SystemExit and the like


# -- usage errors (issue 17): the command's usage and what was wrong, in the UI language, exit 2 ---
#
# Typer 0.29 carries its own copy of click (typer._click): its exceptions are not click's, and their
# texts are English literals. They are recognised by class here and said again from their fields.

def _click_exception_classes() -> tuple[type, ...]:
    found: list[type] = []
    try:
        from typer._click import exceptions as tex

        found.append(tex.ClickException)
    except ImportError:  # an older typer uses click itself
        pass
    try:
        import click

        found.append(click.ClickException)
    except ImportError:
        pass
    return tuple(found)


def _usage_error_classes() -> tuple[type, ...]:
    found: list[type] = []
    try:
        from typer._click import exceptions as tex

        found.append(tex.UsageError)
    except ImportError:
        pass
    try:
        import click

        found.append(click.UsageError)
    except ImportError:
        pass
    return tuple(found)


def _is_click_exception(e: BaseException) -> bool:
    return isinstance(e, _click_exception_classes())


def _is_usage_error(e: BaseException) -> bool:
    return isinstance(e, _usage_error_classes())


_BAD_VALUE = [  # the English detail of a bad value (click's, or typer's pydantic) -> our msgid
    (r"^Input should be a valid integer", N_("a whole number is needed.")),
    (r"^Input should be a valid (?:number|float|decimal)", N_("a number is needed.")),
    (r"^Input should be a valid boolean", N_("yes or no is needed.")),
    (r"^Input should be (?P<choices>'.*)$", N_("it should be {choices}")),
    (r"^'?(?P<value>.*?)'? is not a valid integer(?: range)?\.?$", N_("'{value}' is not a whole number.")),
    (r"^'?(?P<value>.*?)'? is not a valid float(?: range)?\.?$", N_("'{value}' is not a number.")),
    (r"^'?(?P<value>.*?)'? is not one of (?P<choices>.*?)\.?$", N_("'{value}' is not one of {choices}.")),
    (r"^(?:File|Directory|Path) '(?P<value>.*)' does not exist\.?$", N_("'{value}' does not exist.")),
]


def _bad_value_detail(text: str) -> str:
    import re

    for pattern, msgid in _BAD_VALUE:
        m = re.match(pattern, text.strip())
        if m:
            return _(msgid, **m.groupdict())
    return text


def _usage_message(e: BaseException) -> str:
    """What was wrong, in the UI language, from the exception's fields (not its English text)."""
    import re

    kind = type(e).__name__
    raw = str(getattr(e, "message", "") or "")
    param = getattr(e, "param", None)
    hint = getattr(e, "param_hint", None)
    if hint is None and param is not None:
        try:
            hint = param.get_error_hint()
        except Exception:  # noqa: BLE001 - a hint is a courtesy
            hint = getattr(param, "name", None)
    if hint is not None and not isinstance(hint, str):
        hint = " / ".join(str(h) for h in hint)
    if kind == "NoSuchOption":
        name = str(getattr(e, "option_name", "") or raw)
        text = _("Unknown option: {name}", name=name)
        possible = getattr(e, "possibilities", None)
        if possible:
            text += " " + _("(did you mean: {names})", names=", ".join(sorted(possible)))
        return text
    if kind == "MissingParameter":
        what = getattr(e, "param_type", None) or getattr(param, "param_type_name", "") or ""
        if what == "option":
            return _("Missing option {name}.", name=hint or "")
        return _("Missing argument {name}.", name=hint or "")
    if kind == "BadParameter":
        return _("Bad value for {name}: {detail}", name=hint or "-", detail=_bad_value_detail(raw))
    if kind == "BadOptionUsage":
        m = re.match(r"^Option '(?P<name>.+)' requires an argument\.?$", raw)
        if m:
            return _("Option {name} needs a value.", name=m.group("name"))
        m = re.match(r"^Option '(?P<name>.+)' does not take a value\.?$", raw)
        if m:
            return _("Option {name} takes no value.", name=m.group("name"))
        return raw
    m = re.match(r"^No such command '(?P<name>[^']+)'\.?(?:\s*Did you mean '(?P<near>[^']+)'\?)?$", raw)
    if m:
        text = _("Unknown command: {name}", name=m.group("name"))
        if m.group("near"):  # click's suggestion of a near name ('lst' -> 'list'), kept in the UI language
            text += " " + _("(did you mean: {names})", names=m.group("near"))
        return text
    m = re.match(r"^Got unexpected extra argument(?:s|\(s\))? \((?P<args>.*)\)$", raw)
    if m:
        return _("Unexpected extra argument(s): {args}", args=m.group("args"))
    if raw.startswith("Missing command"):
        return _("Missing command.")
    return raw


def _show_usage_error(e: BaseException) -> None:
    """The command's usage line, a pointer to --help, and what was wrong; on standard error."""
    ctx = getattr(e, "ctx", None)
    if type(e).__name__ == "NoArgsIsHelpError":  # 'crm-tui key': the group's help (rich prints it itself)
        text = str(getattr(e, "message", "") or "")
        if text.strip():
            typer.echo(text)
        return
    if ctx is not None:
        usage = ctx.get_usage()
        if usage.startswith("Usage:"):
            usage = _("Usage:") + usage[len("Usage:"):]
        typer.echo(usage, err=True)
        typer.echo(_("Try '{command} --help' for help.", command=ctx.command_path), err=True)
        typer.echo("", err=True)
    typer.echo(_("Error: {message}", message=_usage_message(e)), err=True)


def _crash(exc: BaseException) -> NoReturn:
    from crm_tui.services.system import crash_log_path, crash_text

    path = crash_log_path(common.G.data_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(crash_text(exc))
        where = str(path)
    except OSError:
        where = "-"
    typer.echo(_("Unexpected error ({kind}); nothing more was done. Details: {path}", kind=type(exc).__name__, path=where), err=True)
    sys.exit(70)

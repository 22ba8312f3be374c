"""Usage errors of every command (issue 17, item 3): the command's usage and what was wrong, in the
UI language, exit 2; never the unexpected-error path (exit 70, a traceback in crash.log).

The commands are enumerated from the Typer app, so a new command is covered without editing this
file. Usage errors happen before a command runs, so most cases run in-process (cli.main, as the
``crm-tui`` entry point calls it); the two commands of the issue's "done when" run in a subprocess."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import typer

from crm_tui import cli
from crm_tui.i18n import set_language


def _commands() -> list[tuple[tuple[str, ...], object]]:
    root = typer.main.get_command(cli.app)
    found: list[tuple[tuple[str, ...], object]] = []

    def walk(cmd, path: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
        found.append((path, cmd))
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            walk(sub, (*path, name))

    walk(root, ())
    return found


COMMANDS = _commands()
LEAVES = [(p, c) for p, c in COMMANDS if not getattr(c, "commands", None)]
WITH_ARGUMENT = [(p, c) for p, c in LEAVES
                 if any(x.required and x.param_type_name == "argument" for x in c.params)]  # type: ignore[attr-defined]
WITH_REQUIRED_OPTION = [(p, c) for p, c in LEAVES
                        if any(x.required and x.param_type_name == "option" for x in c.params)]  # type: ignore[attr-defined]


def _id(case) -> str:  # type: ignore[no-untyped-def]
    return " ".join(case[0]) or "crm-tui"


def _run(argv: list[str], monkeypatch, capsys, tmp_path: Path) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CRM_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(sys, "argv", ["crm-tui", *argv])
    monkeypatch.setattr(cli.common, "G", cli.Globals())  # cli is a package: G lives in cli/common.py
    with pytest.raises(SystemExit) as ex:
        cli.main()
    out = capsys.readouterr()
    return int(ex.value.code or 0), out.out + out.err


def _assert_usage_error(rc: int, text: str, path: tuple[str, ...], tmp_path: Path) -> None:
    assert rc == 2, text
    assert "Usage: crm-tui" in text and " ".join(("crm-tui", *path)) in text, text
    assert "Traceback" not in text and "Unexpected error" not in text, text
    assert not (tmp_path / "data" / "logs" / "crash.log").exists()


def test_every_command_is_enumerated():
    names = {" ".join(p) for p, _c in COMMANDS}
    assert {"doctor", "restore", "import customers", "backup verify", "user add", "settings set"} <= names
    assert len(WITH_ARGUMENT) >= 8


@pytest.mark.parametrize("case", COMMANDS, ids=_id)
def test_unknown_option_prints_usage_and_exits_2(case, monkeypatch, capsys, tmp_path):
    path, _cmd = case
    rc, text = _run([*path, "--no-such-option"], monkeypatch, capsys, tmp_path)
    _assert_usage_error(rc, text, path, tmp_path)
    assert "Unknown option: --no-such-option" in text


@pytest.mark.parametrize("case", WITH_ARGUMENT, ids=_id)
def test_missing_argument_prints_usage_and_exits_2(case, monkeypatch, capsys, tmp_path):
    path, cmd = case
    options = [f"{x.opts[0]}=x" for x in cmd.params if x.required and x.param_type_name == "option"]  # type: ignore[attr-defined]
    rc, text = _run([*path, *options], monkeypatch, capsys, tmp_path)
    _assert_usage_error(rc, text, path, tmp_path)
    assert "Missing argument" in text


@pytest.mark.parametrize("case", WITH_REQUIRED_OPTION, ids=_id)
def test_missing_required_option_prints_usage_and_exits_2(case, monkeypatch, capsys, tmp_path):
    path, cmd = case
    arguments = [_sample(x) for x in cmd.params if x.required and x.param_type_name == "argument"]  # type: ignore[attr-defined]
    rc, text = _run([*path, *arguments], monkeypatch, capsys, tmp_path)
    _assert_usage_error(rc, text, path, tmp_path)
    assert "Missing option" in text


def _sample(param) -> str:  # type: ignore[no-untyped-def]
    """A value the argument's type accepts, so that only the missing option is wrong."""
    descriptor = getattr(param, "type_descriptor", None)
    return "1" if getattr(descriptor, "annotation", None) in (int, float) else "x"


@pytest.mark.parametrize("argv, said", [
    (["audit", "list", "--limit", "many"], "Bad value for '--limit': a whole number is needed."),
    (["backup", "--to"], "Option --to needs a value."),
    (["frobnicate"], "Unknown command: frobnicate"),
    (["user", "lst"], "Unknown command: lst (did you mean: list)"),  # click's suggestion, not its English text
    (["restore", "a.db", "b.db"], "Unexpected extra argument(s): b.db"),
])
def test_bad_value_unknown_command_and_extra_argument(argv, said, monkeypatch, capsys, tmp_path):
    rc, text = _run(argv, monkeypatch, capsys, tmp_path)
    assert rc == 2 and said in text, text
    assert "Traceback" not in text and not (tmp_path / "data" / "logs").exists()


def test_usage_errors_are_said_in_chinese(monkeypatch, capsys, tmp_path):
    set_language("zh_CN")
    rc, text = _run(["import", "customers"], monkeypatch, capsys, tmp_path)
    assert rc == 2
    assert "用法：" in text and "crm-tui import customers" in text and "缺少参数" in text, text
    rc, text = _run(["user", "lst"], monkeypatch, capsys, tmp_path)
    assert rc == 2 and "Did you mean" not in text and "No such command" not in text, text


def test_a_real_bug_still_takes_the_unexpected_error_path(monkeypatch, capsys, tmp_path):
    def boom() -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli.common, "_place", boom)
    rc, text = _run(["doctor"], monkeypatch, capsys, tmp_path)
    assert rc == 70 and "ZeroDivisionError" in text
    assert "ZeroDivisionError" in (tmp_path / "data" / "logs" / "crash.log").read_text()


@pytest.mark.parametrize("argv, said", [(["--bogus"], "Unknown option: --bogus"),
                                        (["import", "customers"], "Missing argument")])
def test_done_when_through_the_entry_point(argv, said, run_cli, tmp_data_dir):
    r = run_cli(*argv)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Usage: crm-tui" in r.stderr and said in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and not (tmp_data_dir / "logs").exists()

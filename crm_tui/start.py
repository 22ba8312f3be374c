"""The ``crm-tui`` entry point: a plain start of the app without the command-line machinery.

``crm-tui`` with no command (at most ``--data-dir`` and ``--lang``) opens the database and shows
the login screen; everything else goes to ``crm_tui.cli`` (typer). Importing cli.py costs typer,
click and the definition of every command (~40-60 ms CPU, ~10 % of the cold start measured by
benchmarks/), so a plain start does not import it unless something fails, and then only to say
it in the same words and with the same exit code as the commands (tests/ui/test_startup.py).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional


def bare_start(argv: list[str]) -> Optional[tuple[Optional[str], Optional[str]]]:
    """(data dir, language) when the command line only starts the app - no command, nothing but
    --data-dir and --lang, each once with a value - else None and typer parses it as always."""
    opts: dict[str, Optional[str]] = {"--data-dir": None, "--lang": None}
    i = 0
    while i < len(argv):
        name, eq, value = argv[i].partition("=")
        if name not in opts or opts[name] is not None:
            return None
        if not eq:
            if i + 1 >= len(argv):
                return None
            i += 1
            value = argv[i]
        if not value or value.startswith("-"):
            return None
        opts[name] = value
        i += 1
    return opts["--data-dir"], opts["--lang"]


def main() -> None:
    bare = bare_start(sys.argv[1:])
    if bare is None:
        from crm_tui.cli import main as cli_main

        cli_main()
        return
    data_dir = Path(bare[0]) if bare[0] else None
    try:
        if bare[1]:
            from crm_tui.domain.errors import CrmError
            from crm_tui.i18n import set_language

            try:
                set_language(bare[1])
            except ValueError:
                raise CrmError("Unknown language '{lang}': use zh_CN or en.", lang=bare[1]) from None
        from crm_tui.ui.launch import run_app

        run_app(data_dir=data_dir, lang=bare[1])
    except BaseException as e:  # noqa: BLE001 - said as the commands say it (cli.fail), or re-raised
        if isinstance(e, SystemExit):
            raise
        from crm_tui import cli

        cli.G.data_dir = data_dir  # where the crash log goes
        cli.fail(e)
    sys.exit(0)

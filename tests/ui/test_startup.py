"""How ``crm-tui`` starts (benchmarks issue 5, cold start): the login screen is built from a database
checked with plain sqlcipher3 - file, key, lock, schema - before the services and SQLAlchemy are
imported; they load at the first key, and signing in works as before. No timing is asserted: the
test guards the order of work, so a top-level import of a service or an area screen in the app
shell, the login screen or the CLI's start path shows up here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.e2e.test_e2e_cli_foundation import CASES

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent('''
    import asyncio, os, sys
    from pathlib import Path
    from types import SimpleNamespace

    from crm_tui.ui.launch import prepare_app
    from crm_tui.store.keys import MemoryKeyStore

    folder = Path(sys.argv[1])
    ks = MemoryKeyStore()
    ks.put(folder / "crm.db", bytes.fromhex(os.environ["BENCH_KEY"]))
    app = prepare_app(SimpleNamespace(data_dir=folder, key_store=ks), daily_backup=False)
    heavy = sorted(m for m in ("sqlalchemy", "alembic", "sqlmodel", "crm_tui.services.context",
                               "crm_tui.services.customers", "crm_tui.ui.screens.customers") if m in sys.modules)
    assert not heavy, f"imported before the login screen: {heavy}"
    # What the start does beside the app (issue 17 tidy, the daily-backup test) loads store.backup:
    # it must not pull SQLAlchemy in either (store.audit did, through HASH_HEX: +130 ms at start).
    from crm_tui.store import backup as _backup  # noqa: F401
    heavy = sorted(m for m in ("sqlalchemy", "alembic", "sqlmodel") if m in sys.modules)
    assert not heavy, f"store.backup imported: {heavy}"

    async def main() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            from crm_tui.ui.screens.login import LoginScreen

            await pilot.pause()
            assert isinstance(app.screen, LoginScreen)
            for ch in "admin":
                await pilot.press(ch)
            await pilot.press("enter")
            for ch in "demo1234":
                await pilot.press(ch)
            await pilot.press("enter")
            for _ in range(200):
                await pilot.pause(0.05)
                await app.workers.wait_for_complete()
                if app.actor is not None:
                    break
            assert app.actor is not None and app.actor.username == "admin", app.screen
            assert not app.svc.lazy_pending
            print("signed in", type(app.screen).__name__)
            app.exit()

    asyncio.run(main())
    app.svc.close()
''')


def test_login_screen_before_the_services_then_sign_in(_demo_template, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src, key = _demo_template
    folder = tmp_path / "data"
    folder.mkdir(mode=0o700)
    shutil.copy(src, folder / "crm.db")
    env = {**os.environ, "BENCH_KEY": key.hex(), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(folder)], capture_output=True, text=True, env=env,
                          timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "signed in" in proc.stdout


def test_bare_start_arguments() -> None:
    """Only `crm-tui [--data-dir D] [--lang L]` skips typer; anything else goes through it."""
    from crm_tui.start import bare_start as _bare_start

    assert _bare_start([]) == (None, None)
    assert _bare_start(["--lang", "en"]) == (None, "en")
    assert _bare_start(["--lang=en", "--data-dir", "/x"]) == ("/x", "en")
    for argv in (["demo"], ["--user", "a"], ["--help"], ["--lang"], ["--lang", "en", "--lang", "zh_CN"],
                 ["--data-dir", ""], ["--lang", "--data-dir"], ["--data-dir", "/x", "backup"]):
        assert _bare_start(argv) is None, argv


@pytest.mark.parametrize("case", list(CASES))
def test_bare_start_failures_match_the_commands(case, cli_db, cli_env, run_cli) -> None:  # type: ignore[no-untyped-def]
    """Each start failure of the e2e suite through bare `crm-tui --data-dir D` (the typer-free
    start): the same exit code and the same one line as a command that opens the database, and
    nothing changed."""
    from tests.helpers import cli

    setup, code, _check, message = CASES[case]
    setup(cli_env, cli_db)
    before = cli.snapshot(cli_db.parent, cli.keyring_file(cli_env))
    r = run_cli("--data-dir", str(cli_db.parent), timeout=60)
    assert (r.returncode, r.stdout, r.stderr) == (code, "", f"Error: {message.format(db=cli_db)}\n")
    assert cli.snapshot(cli_db.parent, cli.keyring_file(cli_env)) == before

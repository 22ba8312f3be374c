"""A desk save while another process (an import) holds the database's write lock (issue 17): the
form stays with everything typed, the message says who is writing and how to retry, the app stays
up; once the lock is gone the same Ctrl+S saves."""

from __future__ import annotations

import subprocess
import sys

from textual.widgets import Input

from crm_tui.ui.screens.customer_form import CustomerFormScreen
from crm_tui.ui.screens.login import LockScreen
from tests.helpers import cli
from tests.ui.conftest import make, settle, sign_in, type_text

SIZE = (100, 32)


def _hold(ui_services, tmp_path) -> subprocess.Popen:  # type: ignore[no-untyped-def,type-arg]
    holder = subprocess.Popen([sys.executable, "-m", "tests.helpers.lock_holder", str(ui_services.store.db_file),
                               "import"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=cli.make_env(tmp_path, ui_services.store.db_file.parent),
                              cwd=cli.REPO_ROOT)
    assert holder.stdin is not None and holder.stdout is not None
    holder.stdin.write(ui_services.store.key.hex() + "\n")
    holder.stdin.flush()
    assert holder.stdout.readline() == "locked\n"
    return holder


def _release(holder: subprocess.Popen) -> None:  # type: ignore[type-arg]
    holder.stdin.close()  # type: ignore[union-attr]
    holder.wait(30)


async def test_unlock_while_an_import_writes_says_why_and_works_once_it_can(ui_services, en, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ui_services.store.busy_ms = 300
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "qiantai")
        await pilot.press("ctrl+l")
        await settle(pilot)
        assert isinstance(app.screen, LockScreen)
        holder = _hold(ui_services, tmp_path)
        try:
            await type_text(pilot, "demo1234")
            await pilot.press("enter")
            await settle(pilot)  # the check ran in a worker: the app kept handling events meanwhile
        finally:
            _release(holder)
        assert isinstance(app.screen, LockScreen) and app.is_running
        assert "Another import is writing" in str(app.screen.query_one("#lock-message").render())
        await type_text(pilot, "demo1234")
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, LockScreen)


async def test_a_save_meeting_a_running_import_keeps_the_form_and_says_why(ui_services, en, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.store import db

    ui_services.store.busy_ms = 300  # before the first connection (the app waits 5 s)
    before = int(db.scalar(ui_services.store, "SELECT count(*) FROM customer"))
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "qiantai")
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        await type_text(pilot, "王五")  # the form opens on the name
        form = app.screen
        assert isinstance(form, CustomerFormScreen)
        holder = subprocess.Popen([sys.executable, "-m", "tests.helpers.lock_holder", str(ui_services.store.db_file),
                                   "import"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, env=cli.make_env(tmp_path, ui_services.store.db_file.parent),
                                  cwd=cli.REPO_ROOT)
        try:
            assert holder.stdin is not None and holder.stdout is not None
            holder.stdin.write(ui_services.store.key.hex() + "\n")
            holder.stdin.flush()
            assert holder.stdout.readline() == "locked\n"
            await pilot.press("ctrl+s")
            await settle(pilot)
        finally:
            holder.stdin.close()  # type: ignore[union-attr]
            holder.wait(30)
        assert app.screen is form and app.is_running
        message = str(form.query_one("#form-message").render())
        assert "Another import is writing to the database (big.csv" in message and "save again" in message
        assert form.query_one("#fld-name", Input).value == "王五"
        assert int(db.scalar(ui_services.store, "SELECT count(*) FROM customer")) == before
        await pilot.press("ctrl+s")  # the retry
        await settle(pilot)
        assert app.screen is not form
    assert int(db.scalar(ui_services.store, "SELECT count(*) FROM customer")) == before + 1

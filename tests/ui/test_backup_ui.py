"""Backup (F9) and import (F11) screens: keyboard flows checked against the database, and
snapshots in Chinese and English (R-SEC-5, issue 9)."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import text

from crm_tui.i18n import set_language
from tests.ui.conftest import make, settle, sign_in, type_text

ROWS = [
    ["客户名称", "手机", "地址", "性别", "负责人"],
    ["欧阳明月", "13512345670", "北京市朝阳区建国路88号", "女", "jingli"],
    ["上官云飞", "1351234567", "北京市海淀区中关村大街27号", "男", "jingli"],
    ["北京云帆贸易有限公司", "010-62345670", "北京市东城区东直门南大街5号", "", "王建国"],
]


def _gbk_csv(folder, name: str = "客户.csv"):  # type: ignore[no-untyped-def]
    buf = io.StringIO()
    csv.writer(buf).writerows(ROWS)
    path = folder / name
    path.write_bytes(buf.getvalue().encode("gbk"))
    return path


def _count(svc, sql: str) -> int:  # type: ignore[no-untyped-def]
    with svc.store.read() as s:
        return int(s.execute(text(sql)).scalar_one())


async def test_backup_screen_backs_up_and_verifies(ui_services):
    app = make(ui_services)
    async with app.run_test(size=(120, 32)) as pilot:
        await sign_in(pilot, "admin")
        await pilot.press("f9")
        await settle(pilot)
        assert type(app.screen).__name__ == "BackupScreen"
        await pilot.press("ctrl+b")
        await settle(pilot)
        await settle(pilot)
        table = app.screen.query_one("#backup-table")
        assert table.row_count == 1
        assert "verified" in str(app.screen.query_one("#backup-message").render())
        await pilot.press("ctrl+v")
        await settle(pilot)
        await settle(pilot)
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert type(app.screen).__name__ == "InfoDialog"
    assert _count(ui_services, "SELECT count(*) FROM audit_log WHERE action = 'backup.create'") == 1
    assert _count(ui_services, "SELECT count(*) FROM audit_log WHERE action = 'backup.verify'") == 1


@pytest.mark.parametrize("user", ["qiantai", "jingli", "kezhang", "fujingli", "neiguan"])
async def test_backup_and_import_keys_do_nothing_for_other_roles(ui_services, user):
    app = make(ui_services)
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, user)
        home = type(app.screen).__name__
        for key in ("f9", "f11"):
            await pilot.press(key)
            await settle(pilot)
            assert type(app.screen).__name__ == home


async def test_import_screen_gbk_dry_run_then_valid_rows(ui_services, tmp_path):
    path = _gbk_csv(tmp_path)
    before = _count(ui_services, "SELECT count(*) FROM customer")
    app = make(ui_services)
    async with app.run_test(size=(140, 40)) as pilot:
        await sign_in(pilot, "admin")
        await pilot.press("f11")
        await settle(pilot)
        assert type(app.screen).__name__ == "ImportScreen"
        await type_text(pilot, str(path))
        await pilot.press("enter")
        await settle(pilot)
        mapping = app.screen.query_one("#import-mapping")
        assert mapping.row_count == 5
        assert "GBK" in str(app.screen.query_one("#import-info").render())
        await pilot.press("ctrl+d")
        await settle(pilot)
        await settle(pilot)
        errors = app.screen.query_one("#import-errors")
        assert errors.row_count == 1  # row 3: ten-digit mobile
        await pilot.press("ctrl+s")  # all or nothing: refused
        await settle(pilot)
        assert "Nothing was imported" in str(app.screen.query_one("#import-message").render())
        assert _count(ui_services, "SELECT count(*) FROM customer") == before
        await pilot.press("ctrl+e")  # valid rows: asks first
        await pilot.pause()
        assert type(app.screen).__name__ == "ConfirmDialog"
        await pilot.press("y")
        await settle(pilot)
        await settle(pilot)
        assert "Imported 2 customers" in str(app.screen.query_one("#import-message").render())
    assert _count(ui_services, "SELECT count(*) FROM customer") == before + 2
    assert _count(ui_services, "SELECT count(*) FROM audit_log WHERE action = 'customer.import'") == 1


async def test_import_screen_change_a_column_mapping(ui_services, tmp_path):
    path = _gbk_csv(tmp_path)
    app = make(ui_services)
    async with app.run_test(size=(140, 40)) as pilot:
        await sign_in(pilot, "admin")
        await pilot.press("f11")
        await settle(pilot)
        await type_text(pilot, str(path))
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("down", "down")  # the 地址 column
        await pilot.press("enter")
        await pilot.pause()
        assert type(app.screen).__name__ == "ChoiceDialog"
        await pilot.press("home", "enter")  # (not imported)
        await pilot.pause()
        assert "地址" not in app.screen.mapping


@pytest.fixture(params=["zh_CN", "en"])
def lang(request):  # type: ignore[no-untyped-def]
    set_language(request.param)
    yield request.param
    set_language("zh_CN")


def test_backup_screen_snapshot(ui_services, lang, snap_compare, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens import backup as screen

    # A backup is the live file's bytes (issue 22): its page count varies by a few pages from run to
    # run (where b-trees split), and with every migration that changes what the demo file holds
    # (12.4 MiB before 2201/2202, 10.3 MiB after them, 8.0 MiB after 2203); the screen's layout is
    # what this compares, so any size of a demo file shows as the one in the snapshot. The schema
    # column shows the head revision: a new migration updates this snapshot on purpose.
    shown = screen.size_text
    monkeypatch.setattr(screen, "size_text", lambda n: shown(13_045_760) if 4 << 20 < n < 64 << 20 else shown(n))

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await sign_in(pilot, "admin")
        await pilot.press("f9")
        await settle(pilot)
        await pilot.press("ctrl+b")
        await settle(pilot)
        await settle(pilot)

    assert snap_compare(make(ui_services), terminal_size=(100, 24), run_before=run_before)


def test_import_screen_snapshot(ui_services, lang, snap_compare, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _gbk_csv(tmp_path, "import.csv")
    monkeypatch.chdir(tmp_path)

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await sign_in(pilot, "admin")
        await pilot.press("f11")
        await settle(pilot)
        await type_text(pilot, "import.csv")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("ctrl+d")
        await settle(pilot)
        await settle(pilot)

    assert snap_compare(make(ui_services), terminal_size=(120, 30), run_before=run_before)

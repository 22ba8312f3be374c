"""The first open after an upgrade says what it does (issue 22): a file at an older schema opened by
the app (ui.launch.prepare_app, as crm-tui and crm-tui demo start) or by a CLI command upgrades it
before anything shows, which takes minutes for a large file. It says so on stderr, in the UI
language, before it starts (from which schema to which, a safety copy first, do not close the
window), a line per step with its time, and how long the whole took. A file at the newest schema
opens without a word."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import pytest
from alembic import command

from crm_tui.i18n import get_language, set_language
from crm_tui.store import db, migrate
from crm_tui.store.keys import MemoryKeyStore
from crm_tui.store.upgrade_notes import UpgradeNotes, duration
from tests.helpers import cli
from tests.services.conftest import Crm


def _downgrade(db_file: Path, key: bytes, to: str = "2001") -> None:
    engine = db.make_engine(db_file, key, pool="null")
    try:
        with engine.connect() as conn:
            conn.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
            with conn.begin():
                command.downgrade(migrate.alembic_config(conn), to)
    finally:
        engine.dispose()


def _launch(crm: Crm) -> None:
    """Open the file as ``crm-tui`` starts (no daily backup), then close it."""
    from crm_tui.ui.launch import prepare_app

    ks = MemoryKeyStore()
    ks.put(crm.place.db_file, crm.key)
    app = prepare_app(SimpleNamespace(data_dir=crm.place.data_dir, key_store=ks), daily_backup=False)
    app.svc.close()


@pytest.fixture
def zh() -> object:
    was = get_language()
    set_language("zh_CN")
    yield
    set_language(was)


def test_an_older_file_opened_by_the_app_says_each_step_and_the_time(crm: Crm, capsys, zh) -> None:  # type: ignore[no-untyped-def]
    crm.svc.close()
    _downgrade(crm.place.db_file, crm.key)
    head = migrate.head_revision()
    capsys.readouterr()
    _launch(crm)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines[0] == f"正在将数据库从结构版本 2001 升级到 {head}：{crm.place.db_file}"
    assert "请勿关闭此窗口" in lines[1] and "安全副本" in lines[1] and "几分钟" in lines[1]
    copy = next((crm.place.data_dir / "backups").glob("pre-upgrade-2001-*.db"))
    assert lines[2].startswith(f"  安全副本：{copy} …… 完成（") and lines[2].endswith("秒）")
    steps = migrate._steps("2001", head)
    assert steps[-1] == head and len(steps) >= 2
    for n, rev in enumerate(steps, 1):
        assert lines[2 + n].startswith(f"  升级到结构版本 {rev}（{n}/{len(steps)}） …… 完成（")
    assert lines[3 + len(steps)].startswith("  检查全部数据关联并保存 …… 完成（")
    assert lines[-1].startswith(f"数据库已升级到结构版本 {head}，共用时 ") and lines[-1].endswith("。")
    assert "Traceback" not in err
    # the next start finds it at the newest schema and says nothing
    _launch(crm)
    assert capsys.readouterr().err == ""


def test_a_file_at_the_newest_schema_opens_without_a_word(crm: Crm, capsys) -> None:  # type: ignore[no-untyped-def]
    crm.svc.close()
    capsys.readouterr()
    _launch(crm)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_a_failed_step_ends_its_line_and_the_error_is_raised_as_before(crm: Crm, monkeypatch, zh) -> None:  # type: ignore[no-untyped-def]
    crm.svc.close()
    _downgrade(crm.place.db_file, crm.key)

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(command, "upgrade", boom)
    out = io.StringIO()
    with pytest.raises(db.MigrationFailed) as err:
        migrate.upgrade(crm.place.db_file, crm.key, notes=UpgradeNotes(out))
    assert "pre-upgrade-2001-" in err.value.message  # the usual message, with the copy it made
    lines = out.getvalue().splitlines()
    assert lines[-1].endswith(" …… 失败") and "1/" in lines[-1]  # the first migration's line
    assert not any("共用时" in line for line in lines)


def test_durations_read_in_seconds_then_minutes(zh) -> None:  # type: ignore[no-untyped-def]
    assert duration(3.21) == "3.2 秒"
    assert duration(278.4) == "4 分 38 秒"
    set_language("en")
    assert duration(59.94) == "59.9 s" and duration(660) == "11 min 0 s"


def test_a_cli_command_on_an_older_file_says_it_too(cli_db, cli_env, run_cli) -> None:  # type: ignore[no-untyped-def]
    key = bytes.fromhex(cli.get_key_hex(cli_env, cli_db) or "")
    _downgrade(cli_db, key)
    r = run_cli("calendar", "show", "2026")
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"Upgrading the database from schema 2001 to {migrate.head_revision()}: " in r.stderr
    assert "do not close this window" in r.stderr and "Traceback" not in r.stderr
    assert "The database was upgraded to schema " in r.stderr.splitlines()[-1]
    again = run_cli("calendar", "show", "2026")
    assert again.returncode == 0 and "Upgrading" not in again.stderr

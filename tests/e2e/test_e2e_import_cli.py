"""``crm-tui import customers`` with other people working (issue 17): the dry run's error report
with a duplicate row, and the busy exit code (75) when another process holds the write lock."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import cli

P = cli.PASSWORD
HEADERS = "客户名称,手机,地址\n"


def _admin(run_cli, *args: str, env=None):  # type: ignore[no-untyped-def]
    return run_cli("--user", "admin", "--password-stdin", *args, input=f"{P}\n", env=env)


def test_dry_run_errors_to_with_a_duplicate_row_writes_the_report(cli_db, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = tmp_path / "first.csv"
    first.write_text(HEADERS + "张伟,13812345678,北京市朝阳区建国路88号\n", encoding="utf-8")
    r = _admin(run_cli, "import", "customers", str(first))
    assert r.returncode == 0, r.stdout + r.stderr
    again = tmp_path / "again.csv"
    again.write_text(HEADERS + "张伟,13812345678,北京市朝阳区建国路88号\n李娜,13900001111,\n", encoding="utf-8")
    report = tmp_path / "out.csv"
    r = _admin(run_cli, "import", "customers", str(again), "--dry-run", "--errors-to", str(report))
    cli.assert_no_noise(r)
    assert r.returncode == 0, r.stdout + r.stderr
    text = report.read_text(encoding="utf-8-sig")
    assert "张伟 is already customer" in text and "not imported" in text


def test_a_command_meeting_a_held_write_lock_says_busy_and_exits_75(cli_db, run_cli, cli_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    key_hex = cli.get_key_hex(cli_env, cli_db)
    assert key_hex
    f = tmp_path / "a.csv"
    f.write_text(HEADERS + "张伟,13812345678,\n", encoding="utf-8")
    holder = subprocess.Popen([sys.executable, "-m", "tests.helpers.lock_holder", str(cli_db), "import"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=cli_env, cwd=cli.REPO_ROOT)
    try:
        assert holder.stdin is not None and holder.stdout is not None
        holder.stdin.write(key_hex + "\n")
        holder.stdin.flush()
        assert holder.stdout.readline() == "locked\n"
        r = _admin(run_cli, "import", "customers", str(f), env={**cli_env, "CRM_TUI_BUSY_TIMEOUT_MS": "300"})
    finally:
        holder.stdin.close()  # type: ignore[union-attr]
        holder.wait(30)
    cli.assert_no_noise(r)
    assert r.returncode == 75, r.stdout + r.stderr
    assert "Another import is writing to the database (big.csv" in r.stderr
    r = _admin(run_cli, "import", "customers", str(f))  # the lock released: the same command works
    assert r.returncode == 0, r.stdout + r.stderr

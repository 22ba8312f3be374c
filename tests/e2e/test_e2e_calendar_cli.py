"""`crm-tui calendar import|show|set|unset` and doctor's holiday-schedule line through the real CLI
in a subprocess (issue 16): the administrator loads a year's schedule, anyone may look at it, bad
rows are named with nothing written, other roles are refused."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from tests.helpers import cli

P = cli.PASSWORD
SPRING_2027 = "日期,类型,名称\n2027-02-07,班,春节\n" + "".join(f"2027-02-{d:02d},休,春节\n" for d in range(8, 13))


def _admin(run_cli, *args: str):  # type: ignore[no-untyped-def]
    return run_cli("--user", "admin", "--password-stdin", *args, input=f"{P}\n")


def _schedule(tmp_path: Path, body: str = SPRING_2027, name: str = "schedule.csv", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(body.encode(encoding))
    return p


def _show_lines(stdout: str) -> dict[str, tuple[str, str]]:
    """'2027-02-08' -> (name, source) for each day line of ``calendar show``."""
    out = {}
    for line in stdout.splitlines():
        m = re.match(r"^  (\d{4}-\d\d-\d\d) \w+\s+(.+?)\s{2,}(package|branch)$", line)
        if m:
            out[m.group(1)] = (m.group(2), m.group(3))
    return out


def test_done_when_import_gbk_file_then_show_2027(cli_db, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = _admin(run_cli, "calendar", "import", str(_schedule(tmp_path, encoding="gbk")))
    assert r.returncode == 0, r.stdout + r.stderr
    cli.assert_no_noise(r)
    assert "6 added" in r.stdout
    s = run_cli("calendar", "show", "2027")
    assert s.returncode == 0, s.stdout + s.stderr
    days = _show_lines(s.stdout)
    assert days == {"2027-02-07": ("春节", "branch"), **{f"2027-02-{d:02d}": ("春节", "branch") for d in range(8, 13)}}
    assert s.stdout.index("2027-02-08") < s.stdout.index("Make-up working days") < s.stdout.index("2027-02-07")
    assert "Days off (休): 5" in s.stdout and "Make-up working days (班): 1" in s.stdout


def test_show_names_the_package_and_uncovered_years(cli_db, run_cli) -> None:  # type: ignore[no-untyped-def]
    s = run_cli("calendar", "show", "2026")
    assert s.returncode == 0
    days = _show_lines(s.stdout)
    assert days["2026-10-01"] == ("National Day", "package")
    assert days["2026-01-04"][1] == "package"  # a make-up working day (Sunday)
    s = run_cli("calendar", "show", "2031")
    assert s.returncode == 0 and "No holiday schedule for 2031" in s.stdout and "calendar import" in s.stdout


def test_bad_rows_are_named_and_nothing_is_written(cli_db, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = "日期,类型,名称\n2027-02-08,休,春节\n2027-13-01,休,春节\n2027-02-09,放风,春节\n"
    r = _admin(run_cli, "calendar", "import", str(_schedule(tmp_path, bad)))
    assert r.returncode != 0
    assert "Row 3:" in r.stderr and "Row 4:" in r.stderr and "Traceback" not in r.stderr
    assert "Row 2" not in r.stderr
    s = run_cli("calendar", "show", "2027")
    assert "branch" not in s.stdout


def test_set_and_unset_one_day(cli_db, run_cli) -> None:  # type: ignore[no-untyped-def]
    r = _admin(run_cli, "calendar", "set", "2026-10-01", "班", "试运行")
    assert r.returncode == 0, r.stdout + r.stderr
    assert _show_lines(run_cli("calendar", "show", "2026").stdout)["2026-10-01"] == ("试运行", "branch")
    r = _admin(run_cli, "calendar", "set", "2026-10-40", "休", "")
    assert r.returncode != 0 and "not a date of the calendar" in r.stderr and "name is missing" in r.stderr
    r = _admin(run_cli, "calendar", "unset", "2026-10-01")
    assert r.returncode == 0, r.stderr
    assert _show_lines(run_cli("calendar", "show", "2026").stdout)["2026-10-01"][1] == "package"
    r = _admin(run_cli, "calendar", "unset", "2026-10-01")
    assert r.returncode != 0 and "no holiday schedule entry" in r.stderr


def test_only_an_administrator_may_import(cli_db, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = _admin(run_cli, "user", "add", "kezhang", "--role", "section_chief", "--approval", "王科长")
    otp = re.search(r"One-time password \(shown once\): (\S+)", r.stdout).group(1)  # type: ignore[union-attr]
    own = "Chenzq-pass-2026"  # a one-time password allows nothing but its change (R-SEC-1)
    r = run_cli("--user", "kezhang", "--password-stdin", "user", "passwd", input=f"{otp}\n{otp}\n{own}\n{own}\n")
    assert r.returncode == 0, r.stderr
    r = run_cli("--user", "kezhang", "--password-stdin", "calendar", "import", str(_schedule(tmp_path)),
                input=f"{own}\n")
    assert r.returncode != 0 and "calendar.manage" in r.stderr and "Traceback" not in r.stderr
    assert "branch" not in run_cli("calendar", "show", "2027").stdout


def test_doctor_warns_about_missing_years_and_still_exits_0(cli_db, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # The machine's date decides which years are needed (this year; from 1 November the next too).
    today = date.today()
    needed = [today.year] + ([today.year + 1] if today.month >= 11 else [])
    d = run_cli("doctor")
    assert d.returncode == 0, d.stdout + d.stderr
    [line] = [ln for ln in d.stdout.splitlines() if "holiday schedule" in ln]
    uncovered = [y for y in needed if y > 2026]  # chinese-calendar 1.11 covers up to 2026
    if uncovered:
        assert line.startswith("WARN") and str(uncovered[0]) in line and "calendar import" in line
    else:
        assert line.startswith("OK  ")
    body = "日期,类型,名称\n" + "".join(f"{y}-01-01,休,元旦\n" for y in needed)
    assert _admin(run_cli, "calendar", "import", str(_schedule(tmp_path, body))).returncode == 0
    d = run_cli("doctor")
    assert d.returncode == 0
    [line] = [ln for ln in d.stdout.splitlines() if "holiday schedule" in ln]
    assert line.startswith("OK  "), line

"""`crm-tui report` through the real CLI in a subprocess (issue 10): the weekly pack as text on
standard output and as XLSX/text files; refusals and bad input say why and write nothing."""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import load_workbook

from tests.helpers import cli

P = cli.PASSWORD


def _admin(run_cli, *args: str):  # type: ignore[no-untyped-def]
    return run_cli("--user", "admin", "--password-stdin", *args, input=f"{P}\n")


def _chief(run_cli) -> str:  # type: ignore[no-untyped-def]
    r = _admin(run_cli, "user", "add", "kezhang", "--role", "section_chief", "--approval", "王科长")
    assert r.returncode == 0, r.stderr
    m = re.search(r"One-time password \(shown once\): (\S+)", r.stdout)
    assert m, r.stdout
    otp, own = m.group(1), "Chenzq-pass-2026"  # a one-time password allows nothing but its change (R-SEC-1)
    r = run_cli("--user", "kezhang", "--password-stdin", "user", "passwd", input=f"{otp}\n{otp}\n{own}\n{own}\n")
    assert r.returncode == 0, r.stderr
    return own


def test_weekly_pack_printed_and_written_R_FU_5(cli_db, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    otp = _chief(run_cli)
    r = run_cli("--user", "kezhang", "--password-stdin", "report", "week", input=f"{otp}\n")
    assert r.returncode == 0, r.stdout + r.stderr
    cli.assert_no_noise(r)
    assert r.stdout.startswith("Weekly review ") and "Staff metrics" in r.stdout and "Credit rating" in r.stdout
    out = tmp_path / "pack.xlsx"
    txt = tmp_path / "pack.txt"
    r = run_cli("--user", "kezhang", "--password-stdin", "report", "month", "--xlsx", str(out), "--text", str(txt),
                input=f"{otp}\n")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Summary" in load_workbook(out).sheetnames
    assert txt.read_text(encoding="utf-8").startswith("Monthly review ")


def test_report_refused_and_bad_input_write_nothing_R_SEC_2(cli_db, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = _admin(run_cli, "report", "week", "--xlsx", str(tmp_path / "a.xlsx"))  # administrators do not see reports
    assert r.returncode != 0 and not (tmp_path / "a.xlsx").exists()
    assert "Traceback" not in r.stderr
    otp = _chief(run_cli)
    for args, words in ((["year"], "week or a month"), (["week", "--date", "23/11/2026"], "YYYY-MM-DD"),
                        (["week", "--xlsx", str(tmp_path / "no" / "a.xlsx")], "does not exist")):
        r = run_cli("--user", "kezhang", "--password-stdin", "report", *args, input=f"{otp}\n")
        assert r.returncode != 0 and words in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
    assert not (tmp_path / "no").exists()

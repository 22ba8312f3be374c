"""Issue 20 through the real CLI: ``crm-tui report week`` prints the R-KPI-1 staff columns
(registered / handled, won / lost, corrections, refused saves, working hours, shares with their
counts) and the R-FU-5 follow-up review; ``--xlsx`` writes them as numbers."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from crm_tui.services import staff
from crm_tui.services.context import Services
from crm_tui.store import db
from tests.helpers import cli

PW = "Passw0rd-99"


def test_r_kpi_1_r_fu_5_cli_weekly_report(cli_db, cli_env, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    svc = Services(store=db.open_with_key(cli_db, bytes.fromhex(cli.get_key_hex(cli_env, cli_db) or "")))
    try:
        admin = staff.sign_in(svc, "admin", cli.PASSWORD).actor
        staff.add_user_with_password(svc, admin, "kz", ["section_chief"], PW)
    finally:
        svc.close()
    r = run_cli("--user", "kz", "--password-stdin", "report", "week", input=f"{PW}\n")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert ("Tickets registered" in out and "Tickets handled" in out) or ("登记投诉" in out and "处理投诉" in out)
    assert ("Follow-up cards by consultant" in out) or ("跟进卡（按销售顾问）" in out)
    within = next(ln for ln in out.splitlines() if ln.startswith(("Complaints within the time limits", "时限内处理的投诉")))
    assert within.split()[-2:] == ["—", "(0)"] or "— (0)" in within  # nothing to divide: a dash and the count
    assert "100%" not in within
    xlsx = tmp_path / "week.xlsx"
    r = run_cli("--user", "kz", "--password-stdin", "report", "week", "--xlsx", str(xlsx), input=f"{PW}\n")
    assert r.returncode == 0, r.stderr
    ws = load_workbook(xlsx).worksheets[0]
    share = [row for row in ws.iter_rows(min_row=4) if row[1].value is None or row[1].data_type == "n"]
    assert share  # the summary's figures are numbers or empty cells, never '— (0)' text
    assert all(c.value != "— (0)" for row in ws.iter_rows() for c in row)

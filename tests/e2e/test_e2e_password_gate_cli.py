"""A new account's first command before ``user passwd`` is refused with a clear message and a
non-zero exit; ``user passwd`` goes through, and then the same command works (issue 19 item 2,
R-SEC-1). Through the real CLI in a subprocess."""

from __future__ import annotations

import re

from tests.helpers import cli

P = cli.PASSWORD


def test_r_sec_1_one_time_password_allows_only_passwd(cli_db, run_cli) -> None:  # type: ignore[no-untyped-def]
    r = run_cli("--user", "admin", "--password-stdin", "user", "add", "xiaoli", "--role", "customer_manager", "--approval", "王科长",
                input=f"{P}\n")
    assert r.returncode == 0, r.stderr
    otp = re.search(r"\(shown once\): (\S+)", r.stdout).group(1)  # type: ignore[union-attr]
    for args in (("export", "customers", "--to", str(cli_db.parent / "x.csv")), ("audit", "list"),
                 ("settings", "list"), ("user", "list"), ("report", "week")):
        r = run_cli("--user", "xiaoli", "--password-stdin", *args, input=f"{otp}\n")
        assert r.returncode == 3, (args, r.stdout, r.stderr)
        assert "Change your password first" in r.stderr and "crm-tui --user xiaoli user passwd" in r.stderr
        assert "Traceback" not in r.stderr and r.stdout == ""
    assert not (cli_db.parent / "x.csv").exists()
    new = "Lanhua-pass-2026"
    r = run_cli("--user", "xiaoli", "--password-stdin", "user", "passwd", input=f"{otp}\n{otp}\n{new}\n{new}\n")
    assert r.returncode == 0, r.stderr
    r = run_cli("--user", "xiaoli", "--password-stdin", "report", "week", input=f"{new}\n")
    assert r.returncode == 3 and "not allowed" in r.stderr  # now an ordinary permission answer
    r = run_cli("--user", "admin", "--password-stdin", "audit", "list", "--by", "xiaoli", input=f"{P}\n")
    assert r.stdout.count("permission.denied") == 6 and "reason=password_change_required" in r.stdout

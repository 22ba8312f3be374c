"""The demo data generators (crm_tui/demo) hold no SQL: their reads and bulk inserts are named
functions in store/queries/demo.py, as the services' are in store/queries (issue 18)."""

from __future__ import annotations

import re
from pathlib import Path

DEMO = Path(__file__).resolve().parent.parent / "crm_tui" / "demo"
SQL = re.compile(r"\btext\(|\bfrom sqlalchemy\b|\bimport sqlalchemy\b|\b(?:SELECT|INSERT|UPDATE|DELETE) ")


def test_the_demo_package_holds_no_sql() -> None:
    files = sorted(DEMO.glob("*.py"))
    assert len(files) >= 5
    found = [f"{f.name}:{n}: {line.strip()}" for f in files
             for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1) if SQL.search(line)]
    assert not found, "\n".join(found)

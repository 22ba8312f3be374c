"""The services and the demo generators hold no SQL (issue 18): every statement is a named function in
crm_tui/store/queries, and a service keeps the rule, the permission, the audit row and the transaction.

Read with the AST, not a grep: ``clean_text(`` or ``report_text(`` are not SQL, a string that starts
with SELECT is, wherever it sits."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "crm_tui"
PACKAGES = ("services", "demo")
SQL_STRING = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|WITH|PRAGMA|CREATE|DROP|ALTER|BEGIN|VACUUM)\b"
                        r"|\b(SELECT .* FROM|INSERT INTO|DELETE FROM|UPDATE \w+ SET)\b")  # SQL is written in capitals here
# what a service may take from SQLAlchemy: the Session type for its hints, and the errors it translates
ALLOWED_IMPORTS = {("sqlalchemy.orm", "Session"), ("sqlalchemy.exc", "*")}


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def _problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "text":
            found.append(f"{where}: text(...)")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_STRING.search(node.value):
            found.append(f"{where}: SQL string {node.value[:40]!r}")
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("sqlalchemy", "sqlmodel"):
            for alias in node.names:
                if (node.module, alias.name) not in ALLOWED_IMPORTS and (node.module, "*") not in ALLOWED_IMPORTS:
                    found.append(f"{where}: from {node.module} import {alias.name}")
        elif isinstance(node, ast.Import):
            found += [f"{where}: import {a.name}" for a in node.names if a.name.split(".")[0] in ("sqlalchemy", "sqlmodel")]
    return found


def test_the_checker_sees_sql() -> None:
    """The check can fail: it finds each kind of SQL in a made-up module."""
    sample = ROOT.parent / "tests" / "_sql_sample.py"
    sample.write_text('from sqlalchemy import text\nQ = "SELECT 1"\ndef f(s):\n    return s.execute(text(Q))\n',
                      encoding="utf-8")
    try:
        tree_problems = _problems_of_text(sample)
    finally:
        sample.unlink()
    assert len(tree_problems) == 3, tree_problems


def _problems_of_text(path: Path) -> list[str]:
    real_root = ROOT
    try:
        globals()["ROOT"] = path.parent
        return _problems(path)
    finally:
        globals()["ROOT"] = real_root


@pytest.mark.parametrize("package", PACKAGES)
def test_no_sql_outside_store(package: str) -> None:
    files = [p for p in _modules() if p.relative_to(ROOT).parts[0] == package]
    assert files, package
    found = [problem for f in files for problem in _problems(f)]
    assert not found, "SQL belongs in crm_tui/store/queries:\n" + "\n".join(found)

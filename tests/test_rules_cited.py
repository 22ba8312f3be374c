"""Every rule of the regulations is cited by a test: each id (R-CUST-7) of RULES.md appears in the
name (normalised: r_cust_7) or the docstring of at least one test function under tests/.

RULES.md lives beside the repository (../shared/RULES.md), which CI does not check out, so its ids
are copied in data/rule_ids.txt; where RULES.md is present, the copy must match it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
IDS_FILE = REPO / "data" / "rule_ids.txt"
RULES_MD = REPO.parent / "shared" / "RULES.md"
RULE_ID = re.compile(r"\bR-([A-Z]+)-(\d+)\b")


def rule_ids() -> list[str]:
    return [line.strip() for line in IDS_FILE.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def _normal(rule: str) -> str:
    return rule.lower().replace("-", "_")


def _citations() -> set[str]:
    """Rule ids (normalised) named by test functions: in their names or their docstrings."""
    found: set[str] = set()
    for path in (REPO / "tests").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                name = node.name.lower()
                found.update(m.group(0) for m in re.finditer(r"r_[a-z]+_\d+(?!\d)", name))
                doc = ast.get_docstring(node) or ""
                found.update(f"r_{m.group(1).lower()}_{m.group(2)}" for m in RULE_ID.finditer(doc))
    return found


def test_the_rule_ids_are_read() -> None:
    ids = rule_ids()
    assert len(ids) == len(set(ids)) == 41
    assert all(RULE_ID.fullmatch(i) for i in ids)


@pytest.mark.skipif(not RULES_MD.exists(), reason="../shared/RULES.md is not beside the repository here")
def test_the_id_list_matches_rules_md() -> None:
    in_md = [f"R-{a}-{n}" for a, n in re.findall(r"^- R-([A-Z]+)-(\d+)\b", RULES_MD.read_text(encoding="utf-8"),
                                                 flags=re.M)]
    assert in_md == rule_ids(), "data/rule_ids.txt differs from ../shared/RULES.md: copy the ids again"


def test_every_rule_is_cited_by_a_test() -> None:
    cited = _citations()
    missing = [i for i in rule_ids() if _normal(i) not in cited]
    assert not missing, ("rules no test function names in its name or docstring: " + ", ".join(missing))


def test_the_citation_check_sees_names_and_docstrings() -> None:
    """The check itself: a name citation and a docstring citation are both found, a near miss is not."""
    cited = _citations()
    assert "r_cmp_1" in cited  # test_r_cmp_1_... (names)
    assert "r_fu_4" in cited

"""No import cycles among crm_tui's modules (issue 18). An import inside a function counts as much as
one at the top of a module (a cycle broken only by a late import is still two modules that cannot be
read or moved apart); imports under ``if TYPE_CHECKING:`` do not (they never run).

The import graph is grimp's (import-linter's engine); the cycles are its strongly connected
components of more than one module."""

from __future__ import annotations

import sys

import grimp

# Cycles known at the time of writing, each excused while every module of the cycle starts with one
# of its prefixes (so a cycle that shrinks, or whose modules are split into packages, stays excused;
# one that reaches another module fails). DELETE each entry once its cycle is gone.
KNOWN_CYCLES: dict[str, tuple[str, ...]] = {
    # Not in issue 18's list: use cases calling one another through function-level imports
    # (customers <-> customer_rules, consent, erasure; complaints <-> holidays; backup <-> damage,
    # importing ...). Left to the owners of the services; the lead decides at merge.
    "services: use cases importing one another": ("crm_tui.services.",),
}


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.find_modules_directly_imported_by(v)):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for module in sorted(graph.modules):
            if module not in index:
                visit(module)
    finally:
        sys.setrecursionlimit(limit)
    return found


def _excused(cycle: list[str]) -> str | None:
    for name, prefixes in KNOWN_CYCLES.items():
        if all(m.startswith(prefixes) for m in cycle):
            return name
    return None


def _explain(graph: grimp.ImportGraph, cycle: list[str]) -> str:
    """Each import of the cycle, with its line: what to change."""
    members = set(cycle)
    lines = []
    for a in cycle:
        for b in sorted(graph.find_modules_directly_imported_by(a) & members):
            for d in graph.get_import_details(importer=a, imported=b):
                lines.append(f"  {a}:{d['line_number']} -> {b}   {d['line_contents'].strip()}")
    return "\n".join(lines)


def test_no_import_cycles_among_crm_tui_modules() -> None:
    graph = grimp.build_graph("crm_tui", exclude_type_checking_imports=True)
    assert "crm_tui.store.db" in graph.modules and "crm_tui.cli.common" in graph.modules
    new = [c for c in _cycles(graph) if _excused(c) is None]
    assert not new, "import cycles:\n" + "\n\n".join(_explain(graph, c) for c in new)


def test_the_cycle_finder_finds_a_cycle_and_the_store_has_none() -> None:
    graph = grimp.ImportGraph()
    for m in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(m)
    graph.add_import(importer="p.a", imported="p.b", line_number=1, line_contents="import p.b")
    graph.add_import(importer="p.b", imported="p.c", line_number=1, line_contents="import p.c")
    assert _cycles(graph) == []
    graph.add_import(importer="p.c", imported="p.a", line_number=9, line_contents="import p.a")
    assert _cycles(graph) == [["p.a", "p.b", "p.c"]]
    assert "p.c:9 -> p.a" in _explain(graph, ["p.a", "p.b", "p.c"])
    # issue 18: store/db.py <-> migrate.py <-> rotation.py (and pagecheck.py) was a cycle
    real = grimp.build_graph("crm_tui", exclude_type_checking_imports=True)
    assert not [c for c in _cycles(real) if any(m.startswith("crm_tui.store.") for m in c)]

"""Find every user-facing msgid in crm_tui: ``_()``/``N_()`` calls, CrmError subclasses' messages,
Binding descriptions and ``TITLE_MSGID`` constants. Used by tests/test_i18n.py and by developers:
``python tests/i18n_extract.py`` prints the msgids that have no zh_CN translation yet."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "crm_tui"


def _error_classes() -> dict[str, int]:
    """Names of CrmError subclasses -> index of the msgid argument."""
    import crm_tui
    from crm_tui.domain.errors import CrmError, ValidationError

    for mod in pkgutil.walk_packages(crm_tui.__path__, "crm_tui."):
        if ".ui" in mod.name or mod.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(mod.name)
        except Exception:  # noqa: BLE001 - a module that cannot import is caught by other tests
            pass
    found: dict[str, int] = {}
    stack = [CrmError]
    while stack:
        cls = stack.pop()
        found[cls.__name__] = 1 if issubclass(cls, ValidationError) else 0
        stack.extend(cls.__subclasses__())
    found.pop("ValidationErrors", None)
    return found


def _literal(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def msgids() -> dict[str, list[str]]:
    """msgid -> places (file:line)."""
    errors = _error_classes()
    out: dict[str, list[str]] = {}

    def add(text: str | None, where: str) -> None:
        if text:
            out.setdefault(text, []).append(where)

    for path in sorted(ROOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = path.relative_to(ROOT.parent)
        for node in ast.walk(tree):
            where = f"{rel}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else (
                    node.func.attr if isinstance(node.func, ast.Attribute) else None)
                if name in ("_", "N_") and node.args:
                    add(_literal(node.args[0]), where)
                elif name in errors and len(node.args) > errors[name]:
                    add(_literal(node.args[errors[name]]), where)
                elif name == "Binding":
                    desc = node.args[2] if len(node.args) > 2 else next(
                        (k.value for k in node.keywords if k.arg == "description"), None)
                    add(_literal(desc), where)
            elif isinstance(node, ast.Assign):
                for t in node.targets:
                    if isinstance(t, ast.Name) and t.id == "TITLE_MSGID":
                        add(_literal(node.value), where)
    return out


if __name__ == "__main__":
    from crm_tui.i18n import catalog

    zh = catalog("zh_CN")
    missing = {m: w for m, w in msgids().items() if m not in zh}
    for m, w in sorted(missing.items(), key=lambda kv: kv[1][0]):
        print(f"{m!r}  # {w[0]}")
    print(f"{len(missing)} missing", file=sys.stderr)

"""One translation mechanism, complete catalogs: every msgid in the code has a zh_CN translation
with the same {placeholders}, and no catalog entry is left over from removed code."""

from __future__ import annotations

import string

from crm_tui.i18n import _, catalog, set_language
from tests.i18n_extract import msgids


def _fields(text: str) -> set[str]:
    return {f for _lit, f, _spec, _conv in string.Formatter().parse(text) if f}


def test_every_msgid_has_a_chinese_translation() -> None:
    zh = catalog("zh_CN")
    missing = sorted(f"{m!r} ({w[0]})" for m, w in msgids().items() if m not in zh)
    assert not missing, "missing zh_CN translations:\n" + "\n".join(missing)


def test_translations_keep_the_placeholders() -> None:
    zh = catalog("zh_CN")
    wrong = [m for m in msgids() if m in zh and _fields(m) != _fields(zh[m])]
    assert not wrong, f"placeholders differ: {wrong}"


def test_no_stale_catalog_entries() -> None:
    used = set(msgids())
    stale = sorted(m for m in catalog("zh_CN") if m not in used)
    assert not stale, f"catalog entries no code uses: {stale[:20]}"


def test_english_is_the_source_and_chinese_the_default() -> None:
    set_language("en")
    try:
        assert _("Sign in") == "Sign in"
    finally:
        set_language("zh_CN")
    assert _("Sign in") != "Sign in"


def test_no_msgid_has_two_different_chinese_translations() -> None:
    """Each area keeps its own catalog file; the same English msgid in two files must mean the same
    thing, or one area's screen would show the other area's word."""
    import tomllib
    from collections import defaultdict
    from pathlib import Path

    seen: dict[str, dict[str, str]] = defaultdict(dict)
    for path in sorted((Path(__file__).resolve().parent.parent / "crm_tui/i18n/zh_CN").glob("*.toml")):
        def walk(d: dict, name: str = path.name) -> None:  # type: ignore[type-arg]
            for k, v in d.items():
                if isinstance(v, str):
                    seen[k][name] = v
                elif isinstance(v, dict):
                    walk(v)
        walk(tomllib.loads(path.read_text(encoding="utf-8")))
    clashes = {k: v for k, v in seen.items() if len(set(v.values())) > 1}
    assert not clashes, clashes

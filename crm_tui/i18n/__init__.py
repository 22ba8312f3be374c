"""One translation mechanism for every user-facing string.

Source strings (msgids) are English; ``zh_CN`` is the default UI language. Catalogs are TOML files
in ``crm_tui/i18n/<lang>/*.toml`` (one file per area, so areas do not edit each other's files), each
mapping an English msgid to its translation. ``_()`` translates and formats with ``str.format``
named fields; ``N_()`` only marks a string for the catalog check and returns it unchanged, for
constants that are translated later, at display time.

This package imports nothing else from crm_tui, so every layer may use it.
"""

from __future__ import annotations

import marshal
import os
from functools import cache
from pathlib import Path

LANGUAGES = ("zh_CN", "en")
DEFAULT_LANGUAGE = "zh_CN"
_HERE = Path(__file__).parent
_current = os.environ.get("CRM_TUI_LANG", DEFAULT_LANGUAGE)
if _current not in LANGUAGES:
    _current = DEFAULT_LANGUAGE


def normalise_language(lang: str) -> str:
    """Map user spellings (zh, zh-CN, en_US, ...) to a supported language, or raise ValueError."""
    key = lang.strip().replace("-", "_").lower()
    if key in ("zh", "zh_cn", "cn", "chinese", "中文"):
        return "zh_CN"
    if key in ("en", "en_us", "en_gb", "english"):
        return "en"
    raise ValueError(lang)


def set_language(lang: str) -> None:
    global _current
    _current = normalise_language(lang)


def get_language() -> str:
    return _current


@cache
def catalog(lang: str) -> dict[str, str]:
    """The merged catalog of one language (msgid -> text). English is the identity."""
    folder = _HERE / lang
    return _load(folder) if folder.is_dir() else {}


def _load(folder: Path) -> dict[str, str]:
    """The folder's TOML files merged, through a compiled copy in its __pycache__ (as Python keeps
    .pyc files): parsing the ~90 KB of TOML took ~17 ms of every start (benchmarks: cold start),
    reading the copy ~1 ms. The copy is used only while every file's name, size and mtime match;
    if the folder is read-only there is no copy, and the TOML is parsed as before."""
    files = sorted(folder.glob("*.toml"))
    stamp = [(f.name, st.st_size, st.st_mtime_ns) for f, st in ((f, f.stat()) for f in files)]
    compiled = folder / "__pycache__" / "catalog.marshal"
    try:
        saved, merged = marshal.loads(compiled.read_bytes())
        if saved == stamp and isinstance(merged, dict):
            return merged
    except (OSError, ValueError, EOFError, TypeError):
        pass
    import tomllib

    merged = {}
    for file in files:
        with file.open("rb") as fh:
            merged.update(tomllib.load(fh))
    try:
        compiled.parent.mkdir(exist_ok=True)
        tmp = compiled.with_name(f"catalog.{os.getpid()}.tmp")
        tmp.write_bytes(marshal.dumps((stamp, merged)))
        os.replace(tmp, compiled)
    except OSError:
        pass
    return merged


def _(msgid: str, /, **params: object) -> str:
    text = catalog(_current).get(msgid, msgid) if _current != "en" else msgid
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return msgid.format(**params)
    return text


def N_(msgid: str, /) -> str:
    return msgid


def translate_in(lang: str, msgid: str, /, **params: object) -> str:
    """Translate into a given language without changing the current one (reports, exports)."""
    text = catalog(lang).get(msgid, msgid) if lang != "en" else msgid
    return text.format(**params) if params else text

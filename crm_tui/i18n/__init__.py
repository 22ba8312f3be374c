"""One translation mechanism for every user-facing string.

Source strings (msgids) are English; ``zh_CN`` is the default UI language. Catalogs are TOML files
in ``crm_tui/i18n/<lang>/*.toml`` (one file per area, so areas do not edit each other's files), each
mapping an English msgid to its translation. ``_()`` translates and formats with ``str.format``
named fields; ``N_()`` only marks a string for the catalog check and returns it unchanged, for
constants that are translated later, at display time.

This package imports nothing else from crm_tui, so every layer may use it.
"""

from __future__ import annotations

import os
import tomllib
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
    merged: dict[str, str] = {}
    folder = _HERE / lang
    if folder.is_dir():
        for file in sorted(folder.glob("*.toml")):
            with file.open("rb") as fh:
                merged.update(tomllib.load(fh))
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

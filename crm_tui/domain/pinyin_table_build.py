"""Makes data/pinyin_readings.txt (crm_tui/domain/pinyin_table.py) from the installed pypinyin:
``python -m crm_tui.domain.pinyin_table_build`` after a change of pypinyin's pin or of
``search_terms.SURNAME_READINGS`` (tests/domain/test_pinyin_table.py fails until then)."""

from __future__ import annotations

from pathlib import Path

from crm_tui.domain import search_terms as st
from crm_tui.domain.pinyin_table import FILE, render


def build() -> str:
    """The table's text from the installed pypinyin, through the search index's own pypinyin path
    (``search_terms._pypinyin_syllables`` and ``_pypinyin_surname_reading``)."""
    from pypinyin import __version__
    from pypinyin.constants import PHRASES_DICT, PINYIN_DICT, RE_HANS

    chars: dict[str, str] = {}
    for code in sorted(PINYIN_DICT):
        c = chr(code)
        got = st._pypinyin_syllables(c)
        if RE_HANS.match(c) and len(got) == 1:
            chars[c] = got[0]
    phrases = {w: st._pypinyin_syllables(w) for w in sorted(PHRASES_DICT)}
    if any(not RE_HANS.match(w) or len(v) != len(w) for w, v in phrases.items()):
        raise ValueError("a phrase of pypinyin's dictionary is not Han characters with one syllable each")
    surnames = {c: r for c in sorted(st.SURNAME_READINGS) if (r := st._pypinyin_surname_reading(c))}
    return render(__version__, RE_HANS.pattern, chars, phrases, surnames)


def main() -> None:  # pragma: no cover - a developer's command
    from crm_tui.domain.config import data_dir

    path = Path(__file__).resolve().parent.parent.parent / "data" / FILE
    if not path.parent.is_dir():
        path = data_dir() / FILE
    path.write_text(build(), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":  # pragma: no cover
    main()

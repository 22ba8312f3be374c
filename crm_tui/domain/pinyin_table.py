"""The pinyin of all-Han text, read from a table made once from pypinyin (data/pinyin_readings.txt).

Why: a search index entry is made for every name written, and the import writes tens of thousands
of names at once. pypinyin answers correctly but costs ~0.18 s CPU to load (its dictionaries and the
phrase segmenter's prefix set, built at import) and ~10 us a name through its converter; this table
loads in ~0.04 s and answers a name in ~2 us (issue 22, import within 1.5x of the raw pipeline).

Exactness: the table holds, for the pinned pypinyin (pyproject.toml), what the search index's
pypinyin path (``search_terms._pypinyin_syllables``) gives for every single character and every
phrase of its phrase dictionary, the proper prefixes of its phrases, and its Han pattern; and
:func:`syllables` cuts a text as pypinyin's phrase segmenter does (``pypinyin.seg.mmseg.seg``, which
is ``Seg(no_non_phrases=True)``: at each place the longest phrase of the dictionary that starts there,
else one character; a rest that is all prefix of phrases and holds none is cut into characters).
``tests/domain/test_pinyin_table.py`` checks that the shipped file is the one pypinyin makes now,
every character and phrase, and random texts against pypinyin. A text the table cannot answer (not
all Han, or a character it does not hold) is answered by pypinyin, as before.

Regenerate after changing pypinyin's pin or ``search_terms.SURNAME_READINGS``:
``python -m crm_tui.domain.pinyin_table_build``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

FILE = "pinyin_readings.txt"
FORMAT = "crm-tui pinyin readings 1"
JOIN = "'"  # between the syllables of a phrase in the file (no syllable holds it, nor a space)


@dataclass(frozen=True)
class Table:
    header: str
    han: re.Pattern[str]  # pypinyin's RE_HANS: the whole text is Han
    chars: dict[str, str]  # character -> its syllable (pypinyin's first reading, tone marks removed)
    phrases: dict[str, str]  # phrase -> its syllables joined by JOIN
    prefixes: frozenset[str]  # proper prefixes of phrases that are not phrases themselves
    surnames: dict[str, str]  # surname -> its special reading, where pypinyin lists it

    def syllables(self, text: str) -> tuple[str, ...] | None:
        """pypinyin's syllables of ``text`` (``search_terms._pypinyin_syllables``), or None when the
        table cannot tell: the text is not all Han, or holds a character the table does not."""
        if not self.han.match(text):
            return None
        phrases, prefixes, chars = self.phrases, self.prefixes, self.chars
        out: list[str] = []
        i, n = 0, len(text)
        try:
            while i < n:
                end = 0  # the end of the longest phrase starting at i
                j = i + 1
                while j <= n:
                    word = text[i:j]
                    if word in phrases:
                        end = j
                    elif word not in prefixes:
                        break
                    j += 1
                if end:
                    out += phrases[text[i:end]].split(JOIN)
                    i = end
                elif j > n:  # the rest is a prefix of phrases and holds none: a character at a time
                    out += [chars[c] for c in text[i:]]
                    break
                else:
                    out.append(chars[text[i]])
                    i += 1
        except KeyError:
            return None
        return tuple(out)


def load(folder: Path) -> Table | None:
    """The table in ``folder``; None when it is missing or of another format, or when pypinyin is
    told to use no phrases (``PYPINYIN_NO_PHRASES``, which the table does not follow): the caller
    then asks pypinyin."""
    if os.environ.get("PYPINYIN_NO_PHRASES"):
        return None
    try:
        lines = (folder / FILE).read_text(encoding="utf-8").split("\n")
        header, han, chars, readings, phrases, phrase_readings, prefixes, surnames = lines[:8]
    except (OSError, ValueError):
        return None
    if not header.startswith(FORMAT + " "):
        return None
    readings_list = readings.split(" ")
    phrase_list, phrase_readings_list = phrases.split(" "), phrase_readings.split(" ")
    if len(chars) != len(readings_list) or len(phrase_list) != len(phrase_readings_list):
        return None
    return Table(header, re.compile(han), dict(zip(chars, readings_list)),
                 dict(zip(phrase_list, phrase_readings_list)), frozenset(prefixes.split(" ")),
                 {pair[0]: pair[1:] for pair in surnames.split(" ") if pair})


def render(version: str, han: str, chars: dict[str, str], phrases: dict[str, tuple[str, ...]],
           surnames: dict[str, str]) -> str:
    """The file's text (``pinyin_table_build.build`` gives the arguments from pypinyin)."""
    for s in (*chars.values(), *(x for v in phrases.values() for x in v), *surnames.values()):
        if not s or " " in s or JOIN in s or "\n" in s:
            raise ValueError(f"syllable {s!r} cannot be written in the table")
    if any(len(c) != 1 for c in chars) or any(" " in p or "\n" in p for p in phrases) or "\n" in han:
        raise ValueError("a key cannot be written in the table")
    prefixes = {w[:k] for w in phrases for k in range(1, len(w))} - set(phrases)
    return "\n".join([
        f"{FORMAT} pypinyin {version}",
        han,
        "".join(chars),
        " ".join(chars.values()),
        " ".join(phrases),
        " ".join(JOIN.join(v) for v in phrases.values()),
        " ".join(sorted(prefixes)),
        " ".join(c + r for c, r in surnames.items()),
        "",
    ])

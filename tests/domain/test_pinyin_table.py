"""The pinyin table (crm_tui/domain/pinyin_table.py, data/pinyin_readings.txt) answers as pypinyin
does: the shipped file is the one pypinyin makes now, every character and phrase of pypinyin's
dictionaries and random texts give pypinyin's syllables, and what the table cannot answer is
answered by pypinyin. Rule: the search index's pinyin terms (RULES S-2 search as you type)."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_tui.domain import pinyin_table, pinyin_table_build
from crm_tui.domain import search_terms as stm
from crm_tui.domain.config import data_dir


@pytest.fixture(scope="module")
def table() -> pinyin_table.Table:
    got = pinyin_table.load(data_dir())
    assert got is not None, "data/pinyin_readings.txt is missing or of another format"
    return got


def test_shipped_table_is_what_pypinyin_makes_now() -> None:
    """Fails after a change of pypinyin's pin or of SURNAME_READINGS until the file is made again
    with ``python -m crm_tui.domain.pinyin_table_build``."""
    shipped = (data_dir() / pinyin_table.FILE).read_text(encoding="utf-8")
    assert shipped == pinyin_table_build.build(), "run: python -m crm_tui.domain.pinyin_table_build"


def test_every_character_and_phrase_as_pypinyin(table: pinyin_table.Table) -> None:
    from pypinyin.constants import PHRASES_DICT, PINYIN_DICT

    assert len(table.chars) == len(PINYIN_DICT) and len(table.phrases) == len(PHRASES_DICT)
    wrong = [t for t in [*map(chr, PINYIN_DICT), *PHRASES_DICT]
             if table.syllables(t) != stm._pypinyin_syllables(t)]
    assert wrong == []


def _texts(seed: int, n: int, table: pinyin_table.Table) -> list[str]:
    """Texts made of phrases, pieces of phrases and characters: the segmenter's cases (a phrase
    that runs into the next, a prefix of a phrase that is none, a rest that is all prefix)."""
    rnd = random.Random(seed)
    words = sorted(table.phrases)
    phrase_chars = sorted({c for w in words for c in w})
    every_char = sorted(table.chars)
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rnd.randint(1, 4)):
            r = rnd.random()
            if r < 0.4:
                parts.append(rnd.choice(words))
            elif r < 0.7:
                w = rnd.choice(words)
                parts.append(w[:rnd.randint(1, len(w))])
            elif r < 0.9:
                parts.append(rnd.choice(phrase_chars))
            else:
                parts.append(rnd.choice(every_char))
        out.append("".join(parts))
    return out


def test_random_texts_as_pypinyin(table: pinyin_table.Table) -> None:
    texts = _texts(7, 20_000, table)
    wrong = [t for t in texts if table.syllables(t) != stm._pypinyin_syllables(t)]
    assert wrong == []


_HAN_TEXT = st.lists(st.sampled_from(list("王李张刘陈单曾解仇朴长重乐行银藏欧阳司马诸葛建国华调和中国人民银行重庆长江")) |
                     st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF) |
                     st.characters(min_codepoint=0x3400, max_codepoint=0x4DBF), min_size=1, max_size=12).map("".join)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_HAN_TEXT)
def test_han_text_as_pypinyin(text: str) -> None:
    from pypinyin import lazy_pinyin

    table = stm._table()  # the shipped table, loaded once
    assert table is not None
    got = table.syllables(text)
    want = stm._pypinyin_syllables(text)
    assert got is None or got == want
    assert stm._syllables(text) == want == tuple(s for s in lazy_pinyin(text, errors=stm._ascii_words) if s)


def _han_outside(table: pinyin_table.Table) -> str:
    """A character pypinyin calls Han that has no reading in its dictionary (nor in the table)."""
    return next(c for c in map(chr, range(0x3400, 0x32000)) if table.han.match(c) and c not in table.chars)


@pytest.mark.parametrize("text", ["Anna王", "王 五", "王·五", "长江实业（集团）有限公司", "a", "１２３", "王?五", "?"])
def test_what_the_table_cannot_answer_goes_to_pypinyin(table: pinyin_table.Table, text: str) -> None:
    """Not all Han, or a character outside the table ("?"): None, and _syllables asks pypinyin."""
    from pypinyin import lazy_pinyin

    text = stm.normalise(text.replace("?", _han_outside(table)))
    assert table.syllables(text) is None
    assert stm._syllables(text) == tuple(s for s in lazy_pinyin(text, errors=stm._ascii_words) if s)


def test_surname_readings_as_pypinyin(table: pinyin_table.Table) -> None:
    for char in stm.SURNAME_READINGS:
        assert table.surnames.get(char) == stm._pypinyin_surname_reading(char), char
    assert stm._surname_reading("王") is None


def test_no_table_when_pypinyin_is_told_no_phrases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYPINYIN_NO_PHRASES", "1")
    assert pinyin_table.load(data_dir()) is None


def test_a_missing_or_foreign_file_is_no_table(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert pinyin_table.load(tmp_path) is None
    (tmp_path / pinyin_table.FILE).write_text("something else\n", encoding="utf-8")
    assert pinyin_table.load(tmp_path) is None
    (tmp_path / pinyin_table.FILE).write_text(pinyin_table.FORMAT + " pypinyin 0\n^x$\nab\nx\n\n\n\n\n",
                                              encoding="utf-8")
    assert pinyin_table.load(tmp_path) is None  # two characters, one reading


def test_without_a_table_search_terms_ask_pypinyin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stm, "_table", lambda: None)
    stm._syllables.cache_clear()
    stm._surname_reading.cache_clear()
    try:
        assert stm._syllables("单田芳") == ("dan", "tian", "fang")
        assert stm._surname_reading("单") == "shan"
        assert stm.name_index("重庆银行", "org")[1] == "|chongqingyinhang|qingyinhang|yinhang|hang|cqyh|qyh|yh|h|"
    finally:
        stm._syllables.cache_clear()
        stm._surname_reading.cache_clear()

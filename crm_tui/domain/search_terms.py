"""Search-as-you-type terms for customer archives, and query parsing. Pure (pypinyin only).

Every customer owns rows ``(term, customer_id)`` in the ``search_term`` index (a WITHOUT ROWID
table whose primary key is ``(term, customer_id)``), so every query is an index lookup:

``n:<1..4 characters>``
    every substring of length 1..4 of the normalised name (person's or organisation's name), so
    any 1..4 characters anywhere in the name are an exact lookup; longer queries look up their
    first 4 characters and are verified against ``customer.search_name`` with ``instr``.
``p:<pinyin>``
    the full pinyin of every suffix of the name (``zhangsan``, ``san``) and the initials of every
    suffix (``zs``, ``s``), truncated to :data:`PINYIN_TERM_MAX` characters. A query matches by
    PREFIX range scan (``term >= 'p:zhangs' AND term < 'p:zhangt'``). For a person's surname
    (first character) with a special surname reading (单 shan, 曾 zeng, ...) the forms with that
    reading are added too. Longer queries are verified against ``customer.search_pinyin``.
``t:<4 digits>``
    every 4-digit window of each phone's national digits; a query of 4+ digits looks up its last
    4 digits and is verified against the phone table (containment, suffix included).
``k:<customer number>``
    prefix match, so ``KH2026-0001`` narrows as it is typed.
``x:<ID number or USCC>``
    exact only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

NAME_GRAM_MAX = 4
PINYIN_TERM_MAX = 12
PINYIN_KEY_MAX = 40
QUERY_MAX = 100

TokenKind = Literal["name", "pinyin", "phone", "number", "ident"]

#: Surname readings that differ from the common reading (单 is "dan" in words, "shan" as a
#: surname). Used only where pypinyin lists the reading among the character's readings.
SURNAME_READINGS: dict[str, str] = {
    "单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "区": "ou", "朴": "piao", "查": "zha",
    "盖": "ge", "乐": "yue", "缪": "miao", "翟": "zhai", "覃": "qin", "种": "chong", "秘": "bi",
    "召": "shao", "员": "yun", "尉": "yu", "句": "gou", "能": "nai", "繁": "po", "宓": "mi",
    "折": "she", "万": "mo", "长": "zhang", "重": "chong", "隗": "wei", "那": "na", "燕": "yan",
    "华": "hua", "过": "guo", "纪": "ji", "相": "xiang", "阚": "kan", "莘": "shen", "柏": "bai",
    "黑": "he", "洗": "xian",
}

_HAN = re.compile("[\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_WORDS = re.compile("[a-z0-9]+")
_ID = re.compile(r"[0-9]{17}[0-9X]")
_USCC = re.compile(r"[0-9A-HJ-NP-RTUWXY]{2}[0-9]{6}[0-9A-HJ-NP-RTUWXY]{10}")
_PHONE_CHARS = re.compile(r"\+?[0-9()\-]+")
_NUMBER = re.compile(r"KH[0-9][0-9\-]*")


def normalise(text: str) -> str:
    """Folding used on both sides: NFKC (full-width letters and digits) and lower case."""
    return unicodedata.normalize("NFKC", text or "").lower()


# ------------------------------------------------------------------------------------------------
# Index terms
# ------------------------------------------------------------------------------------------------


def name_terms(name: str) -> set[str]:
    """``n:`` + every substring of length 1..4 (substrings with spaces are skipped)."""
    return _name_terms(normalise(name))


def _name_terms(text: str) -> set[str]:
    """:func:`name_terms` of the normalised name."""
    out: set[str] = set()
    for i in range(len(text)):
        for n in range(1, NAME_GRAM_MAX + 1):
            gram = text[i:i + n]
            if len(gram) < n:
                break
            if not gram.strip() or " " in gram:
                continue
            out.add("n:" + gram)
    return out


def _ascii_words(chunk: str) -> list[str]:
    return _WORDS.findall(normalise(chunk))


@lru_cache(maxsize=4096)
def _syllables(text: str) -> tuple[str, ...]:
    """``lazy_pinyin(text, errors=_ascii_words)`` without its empty syllables: from the table made
    from pypinyin (:mod:`crm_tui.domain.pinyin_table`) when the text is all Han, else from pypinyin."""
    table = _table()
    if table is not None:
        got = table.syllables(text)
        if got is not None:
            return got
    return _pypinyin_syllables(text)


@lru_cache(maxsize=1)
def _table():  # type: ignore[no-untyped-def]
    from crm_tui.domain import pinyin_table
    from crm_tui.domain.config import data_dir

    try:
        folder = data_dir()
    except FileNotFoundError:
        return None
    return pinyin_table.load(folder)


def _pypinyin_syllables(text: str) -> tuple[str, ...]:
    """:func:`_syllables` from pypinyin itself. pypinyin segments the text into words and converts
    each word on its own (``Pinyin.pinyin``), so the words' conversions are remembered: names are
    few words (王 + 建国) that repeat across customers."""
    return tuple(s for word in _segment(text) for s in _word_syllables(word) if s)


def _segment(text: str) -> list[str]:
    """``Pinyin.seg(text)``: pypinyin's ``simpleseg.seg`` splits the text into runs of Han and other
    characters and cuts each Han run with its phrase segmenter (``mmseg.seg.cut``). A text of Han
    characters only (most names) is one run: cut directly, without the per-character split."""
    all_han, cut = _segmenter()
    return list(cut(text)) if all_han(text) else _pinyin_engine().seg(text)


@lru_cache(maxsize=1)
def _segmenter():  # type: ignore[no-untyped-def]
    _pinyin_engine()
    from pypinyin.constants import PHRASES_DICT, RE_HANS
    from pypinyin.seg import mmseg

    if not PHRASES_DICT:  # phrases disabled (PYPINYIN_NO_PHRASES): simpleseg does not cut; neither do we
        return RE_HANS.match, lambda text: [text]
    return RE_HANS.match, mmseg.seg.cut  # RE_HANS: ^(?:[Han])+$, i.e. every character is Han


@lru_cache(maxsize=1)
def _pinyin_engine():  # type: ignore[no-untyped-def]
    # what pypinyin.lazy_pinyin builds on every call (heavy import, loaded on first use)
    from pypinyin.converter import UltimateConverter
    from pypinyin.core import Pinyin

    return Pinyin(UltimateConverter(v_to_u=False, neutral_tone_with_five=False, tone_sandhi=False))


@lru_cache(maxsize=16384)
def _word_syllables(word: str) -> tuple[str, ...]:
    from pypinyin import Style

    engine = _pinyin_engine()
    return tuple(s for item in engine._converter.convert(word, Style.NORMAL, False, _ascii_words, strict=True)
                 for s in item)


@lru_cache(maxsize=1024)
def _surname_reading(char: str) -> str | None:
    """The special surname reading of ``char`` where pypinyin lists it among its readings."""
    if char not in SURNAME_READINGS:
        return None
    table = _table()
    if table is not None:
        return table.surnames.get(char)
    return _pypinyin_surname_reading(char)


def _pypinyin_surname_reading(char: str) -> str | None:
    reading = SURNAME_READINGS.get(char)
    if reading is None:
        return None
    from pypinyin import Style, pinyin

    readings = {r.replace("ü", "v") for r in pinyin(char, style=Style.NORMAL, heteronym=True)[0]}
    return reading if reading in readings else None


def pinyin_forms(name: str, *, person: bool = True) -> list[str]:
    """Full pinyin and initials of every suffix of the name, untruncated, without repeats.

    张三 -> ``zhangsan, san, zs, s``. A person's surname with a special surname reading adds the
    forms that start with it (单田芳 -> also ``shantianfang, stf``).
    """
    return _pinyin_forms(normalise(name), person)


def _pinyin_forms(text: str, person: bool) -> list[str]:
    """:func:`pinyin_forms` of the normalised name."""
    syl = _syllables(text)
    if not syl:
        return []
    n = len(syl)
    initials = [s[0] for s in syl]
    forms = ["".join(syl[i:]) for i in range(n)]
    forms += ["".join(initials[i:]) for i in range(n)]
    if person and text and _HAN.match(text[0]):
        alt = _surname_reading(text[0])
        if alt and alt != syl[0]:
            forms.append(alt + "".join(syl[1:]))
            forms.append(alt[0] + "".join(initials[1:]))
    return list(dict.fromkeys(forms))


def pinyin_terms(forms: Iterable[str]) -> set[str]:
    return {"p:" + f[:PINYIN_TERM_MAX] for f in forms if f}


def pinyin_key(forms: Iterable[str]) -> str:
    """The ``customer.search_pinyin`` value: ``|zhangsan|san|zs|s|``; a query q (truncated to
    :data:`PINYIN_KEY_MAX`) is a prefix of some form iff ``instr(key, '|' || q) > 0``."""
    return "|" + "|".join(dict.fromkeys(f[:PINYIN_KEY_MAX] for f in forms if f)) + "|"


def phone_terms(national: str) -> set[str]:
    digits = national if national and national.isascii() and national.isdigit() else re.sub(r"\D", "", national or "")
    return {"t:" + digits[i:i + 4] for i in range(len(digits) - 3)}


def customer_terms(*, name: str | None, kind: str, number: str, phones: Iterable[str] = (),
                   idents: Iterable[str | None] = ()) -> set[str]:
    """Every index term of one customer. ``phones`` are national digits, ``idents`` the ID
    number / USCC (None skipped)."""
    terms = set(name_index(name, kind)[2])
    return terms | record_terms(number, phones, idents)


def record_terms(number: str, phones: Iterable[str] = (), idents: Iterable[str | None] = ()) -> set[str]:
    """The index terms of a customer other than its name's: number, phones, ID number / USCC."""
    number_term, phone_set, ident_set = record_term_parts(number, phones, idents)
    return {number_term, *phone_set, *ident_set}


def record_term_parts(number: str, phones: Iterable[str] = (),
                      idents: Iterable[str | None] = ()) -> tuple[str, set[str], set[str]]:
    """:func:`record_terms` by kind: the number's ``k:`` term, the phones' ``t:`` terms, the ID
    number's / USCC's ``x:`` terms (bulk writers keep each kind's terms apart: see the import)."""
    phone_set: set[str] = set()
    for p in phones:  # phone_terms(p), added without a set of its own
        digits = p if p and p.isascii() and p.isdigit() else re.sub(r"\D", "", p or "")
        phone_set.update(["t:" + digits[i:i + 4] for i in range(len(digits) - 3)])
    return "k:" + number.upper(), phone_set, {"x:" + x.upper() for x in idents if x}


def name_index(name: str | None, kind: str) -> tuple[str | None, str | None, frozenset[str]]:
    """Everything the index holds of a name, from one pinyin computation: ``customer.search_name``,
    ``customer.search_pinyin`` and the name's terms (characters and pinyin). Bulk writers cache it
    per distinct name (names repeat: 张伟)."""
    search_name, search_pinyin, chars, pinyin = name_index_parts(name, kind)
    return search_name, search_pinyin, frozenset(chars + pinyin)


def name_index_parts(name: str | None, kind: str) -> tuple[str | None, str | None, tuple[str, ...], tuple[str, ...]]:
    """:func:`name_index` with the name's terms in two parts, each without repeats: the characters'
    (``n:``) and the pinyin's (``p:``). The import holds each kind of term apart (services.importing)."""
    if not name:
        return None, None, (), ()
    text = normalise(name)  # once: the columns, the name's terms and its pinyin all start from it
    n = len(text)
    if text.split() == [text]:  # no white space: _name_terms is every substring of 1..4 characters
        chars = tuple({"n:" + text[i:j] for i in range(n) for j in range(i + 1, min(i + NAME_GRAM_MAX, n) + 1)})
    else:
        chars = tuple(_name_terms(text))
    # _pinyin_forms, each suffix's full pinyin built on the next one's
    syl = _syllables(text)
    if not syl:
        return text, "||", chars, ()
    m = len(syl)
    full = [""] * m
    acc = ""
    for i in range(m - 1, -1, -1):
        acc = syl[i] + acc
        full[i] = acc
    initials = "".join([s[0] for s in syl])  # syllables are never empty: one character each
    forms = full + [initials[i:] for i in range(m)]
    if kind == "person" and _HAN.match(text):
        alt = _surname_reading(text[0])
        if alt and alt != syl[0]:
            forms.append(alt + full[1] if m > 1 else alt)
            forms.append(alt[0] + initials[1:])
    forms = list(dict.fromkeys(forms))
    if max(map(len, forms)) <= PINYIN_TERM_MAX:  # no form is cut (PINYIN_KEY_MAX is longer): the
        # forms' terms and the key's parts are the forms themselves, without repeats
        return text, "|" + "|".join(forms) + "|", chars, tuple(["p:" + f for f in forms])
    pinyin = tuple(dict.fromkeys(["p:" + f[:PINYIN_TERM_MAX] for f in forms]))  # pinyin_terms (no form is empty)
    return text, pinyin_key(forms), chars, pinyin


def search_columns(name: str | None, kind: str) -> tuple[str | None, str | None]:
    """``(customer.search_name, customer.search_pinyin)`` for the verification of long queries."""
    if not name:
        return None, None
    return normalise(name), pinyin_key(pinyin_forms(name, person=kind == "person"))


# ------------------------------------------------------------------------------------------------
# Queries
# ------------------------------------------------------------------------------------------------


def upper_bound(prefix: str) -> str:
    """The smallest string greater than every string that starts with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


@dataclass(frozen=True)
class Token:
    """One space-separated part of a query, classified.

    ``term`` is the index term looked up: exact (``prefix`` False, rows ordered by customer id)
    or a prefix range (rows ordered by term, customer id). ``verify`` says the index term only
    narrows and the match must be confirmed (long name, long pinyin, phone of 5+ digits).
    """

    kind: TokenKind
    text: str

    @property
    def prefix(self) -> bool:
        return self.kind in ("pinyin", "number")

    @property
    def term(self) -> str:
        if self.kind == "name":
            return "n:" + self.text[:NAME_GRAM_MAX]
        if self.kind == "pinyin":
            return "p:" + self.text[:PINYIN_TERM_MAX]
        if self.kind == "phone":
            return "t:" + self.text[-4:]
        if self.kind == "number":
            return "k:" + self.text
        return "x:" + self.text

    @property
    def verify(self) -> bool:
        if self.kind == "name":
            return len(self.text) > NAME_GRAM_MAX
        if self.kind == "pinyin":
            return len(self.text) > PINYIN_TERM_MAX
        if self.kind == "phone":
            return len(self.text) > 4
        return False

    @property
    def selectivity(self) -> int:
        """Lower is more selective: the token that drives an AND query."""
        if self.kind == "ident":
            return 0
        if self.kind == "number":
            return 1 if len(self.text) >= 9 else 6
        if self.kind == "phone":
            return 2
        if self.kind == "name":
            return 3 if len(self.text) >= 2 else 7
        return 4 if len(self.text) >= 4 else (5 if len(self.text) == 3 else 8)


@dataclass(frozen=True)
class Query:
    tokens: tuple[Token, ...]

    @property
    def empty(self) -> bool:
        return not self.tokens

    def driver(self) -> Token:
        """The token whose index rows are scanned; the others are verified per row."""
        return min(self.tokens, key=lambda t: t.selectivity)

    def others(self) -> tuple[Token, ...]:
        d = self.driver()
        rest = list(self.tokens)
        rest.remove(d)
        return tuple(rest)

    def kinds(self) -> list[str]:
        return [t.kind for t in self.tokens]


def classify(raw: str) -> Token | None:
    text = normalise(raw).strip()
    if not text:
        return None
    upper = text.upper()
    if _NUMBER.fullmatch(upper):
        return Token("number", upper)
    if _HAN.search(text):
        return Token("name", text)
    if len(upper) == 18 and (_ID.fullmatch(upper) or _USCC.fullmatch(upper)):
        return Token("ident", upper)
    if _PHONE_CHARS.fullmatch(text):
        digits = re.sub(r"\D", "", text)
        if len(digits) >= 4:
            return Token("phone", digits)
        return Token("name", digits) if digits else None
    letters = text.replace("'", "").replace("ü", "v")
    if re.fullmatch("[a-z]+", letters):
        return Token("pinyin", letters[:PINYIN_KEY_MAX])
    if re.fullmatch("[a-z0-9]+", letters):
        return Token("pinyin", letters[:PINYIN_KEY_MAX])
    return Token("name", text)


def parse_query(text: str) -> Query:
    """Split on spaces; CJK -> name, ASCII letters -> pinyin prefix, 4+ digits -> phone, an
    18-character ID number or USCC -> exact ident, ``KH…`` -> customer number. Several tokens
    are ANDed. An 18-digit token is an ID (no phone has 18 digits)."""
    tokens: list[Token] = []
    for part in (text or "")[:QUERY_MAX].split():
        t = classify(part)
        if t is not None and t not in tokens:
            tokens.append(t)
    return Query(tuple(tokens[:5]))

"""Search terms and query parsing (issue 4: search as you type over names, pinyin, phones, numbers, IDs)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_tui.domain.search_terms import (
    NAME_GRAM_MAX,
    PINYIN_TERM_MAX,
    customer_terms,
    name_terms,
    normalise,
    parse_query,
    phone_terms,
    pinyin_forms,
    pinyin_key,
    pinyin_terms,
    search_columns,
    upper_bound,
)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)


def test_name_terms_are_every_substring_of_one_to_four_characters() -> None:
    assert name_terms("张三") == {"n:张", "n:三", "n:张三"}
    terms = name_terms("北京大学出版社")
    assert "n:大学出版" in terms and "n:社" in terms
    assert all(len(t) - 2 <= NAME_GRAM_MAX for t in terms)
    assert "n:学出版社" in terms and "n:京大学出版" not in terms
    assert name_terms("Anna Lee") >= {"n:anna", "n:lee", "n:a"} and not any(" " in t for t in name_terms("Anna Lee"))


def test_pinyin_forms_full_and_initials_of_every_suffix() -> None:
    assert pinyin_forms("张三") == ["zhangsan", "san", "zs", "s"]
    assert pinyin_forms("吕布")[:1] == ["lvbu"]
    assert pinyin_forms("Anna张") == ["annazhang", "zhang", "az", "z"]


def test_a_surname_with_its_own_reading_gets_both() -> None:
    forms = pinyin_forms("单田芳")
    assert "dantianfang" in forms and "shantianfang" in forms and "stf" in forms
    forms = pinyin_forms("曾国藩")
    assert "zengguofan" in forms and "zgf" in forms
    assert "shantianfang" not in pinyin_forms("单田芳", person=False)


def test_pinyin_terms_are_truncated_and_the_key_verifies_prefixes() -> None:
    forms = pinyin_forms("北京市朝阳区建国门外大街科技有限公司")
    terms = pinyin_terms(forms)
    assert all(len(t) <= 2 + PINYIN_TERM_MAX for t in terms)
    key = pinyin_key(pinyin_forms("张三"))
    assert key == "|zhangsan|san|zs|s|"
    assert "|zhangs" in key and "|angs" not in key


def test_phone_terms_are_every_four_digit_window() -> None:
    assert phone_terms("13800138000") == {"t:" + "13800138000"[i:i + 4] for i in range(8)}
    assert phone_terms("123") == set()


def test_customer_terms_cover_every_kind() -> None:
    terms = customer_terms(name="张三", kind="person", number="KH2026-000123", phones=["13800138000"],
                           idents=["11010519800307123x", None])
    assert {"n:张三", "p:zs", "p:zhangsan", "t:8000", "k:KH2026-000123", "x:11010519800307123X"} <= terms
    assert search_columns("Ｚhang 张", "person")[0] == "zhang 张"
    assert search_columns(None, "person") == (None, None)


@pytest.mark.parametrize(("query", "kinds"), [
    ("张", ["name"]),
    ("张三丰的", ["name"]),
    ("zs", ["pinyin"]),
    ("ZhangS", ["pinyin"]),
    ("xi'an", ["pinyin"]),
    ("8000", ["phone"]),
    ("138-0013", ["phone"]),
    ("123", ["name"]),
    ("KH2026-0001", ["number"]),
    ("kh2026", ["number"]),
    ("11010519800307123X", ["ident"]),
    ("110105198003071234", ["ident"]),
    ("91350100M000100Y43", ["ident"]),
    ("张 8000", ["name", "phone"]),
    ("  ", []),
    ("１３８００", ["phone"]),
])
def test_query_classification(query: str, kinds: list[str]) -> None:
    assert parse_query(query).kinds() == kinds


def test_tokens_know_their_lookup() -> None:
    q = parse_query("张三丰先生")
    t = q.tokens[0]
    assert (t.term, t.prefix, t.verify) == ("n:张三丰先", False, True)
    t = parse_query("zhangs").tokens[0]
    assert (t.term, t.prefix, t.verify) == ("p:zhangs", True, False)
    t = parse_query("0013800").tokens[0]
    assert (t.term, t.prefix, t.verify) == ("t:3800", False, True)
    t = parse_query("8000").tokens[0]
    assert t.verify is False
    t = parse_query("KH2026-00").tokens[0]
    assert (t.term, t.prefix) == ("k:KH2026-00", True)
    assert upper_bound("p:zhangs") == "p:zhangt"


def test_the_most_selective_token_drives() -> None:
    assert parse_query("z 8000").driver().kind == "phone"
    assert parse_query("张 11010519800307123X").driver().kind == "ident"
    assert parse_query("z 张三").driver().kind == "name"
    q = parse_query("z 张三")
    assert [t.kind for t in q.others()] == ["pinyin"]


def test_normalise_folds_width_and_case() -> None:
    assert normalise("ＡＢＣ１２３") == "abc123"


@FAST
@given(name=st.text(HAN, min_size=1, max_size=8))
def test_every_short_substring_and_pinyin_prefix_finds_the_name(name: str) -> None:
    terms = name_terms(name)
    for i in range(len(name)):
        for n in range(1, NAME_GRAM_MAX + 1):
            if i + n <= len(name):
                assert parse_query(name[i:i + n]).tokens[0].term in terms
    forms = pinyin_forms(name)
    pterms = pinyin_terms(forms)
    key = pinyin_key(forms)
    for form in forms:
        for cut in range(1, len(form) + 1):
            token = parse_query(form[:cut]).tokens[0]
            lo, hi = token.term, upper_bound(token.term)
            assert any(lo <= t < hi for t in pterms)
            assert "|" + form[:cut] in key


# --- per-word pinyin and name_index (the import's cache; benchmarks/results/NOTES.md, Import) ---

_NAME_CHARS = st.sampled_from(list("王李张刘陈单曾解仇朴长重乐行银藏欧阳司马诸葛建国华调和〇·-'. ")) | \
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF) | st.sampled_from(list("abcAnnaZ019ＡＢ１"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_NAME_CHARS, min_size=1, max_size=8).map("".join))
def test_pinyin_by_word_equals_lazy_pinyin(name: str) -> None:
    """Pinyin converted once per segmented word and remembered equals pypinyin's lazy_pinyin of
    the whole name (phrases such as 长江/重庆/银行 keep their readings)."""
    from pypinyin import lazy_pinyin

    from crm_tui.domain import search_terms as stm

    text = stm.normalise(name)
    assert stm._syllables(text) == tuple(s for s in lazy_pinyin(text, errors=stm._ascii_words) if s)


@pytest.mark.parametrize("name", ["重庆银行", "长江实业（集团）有限公司", "行长王长", "单田芳", "曾乐乐", "Anna 王", "重重"])
def test_pinyin_phrases_by_word(name: str) -> None:
    from pypinyin import lazy_pinyin

    from crm_tui.domain import search_terms as stm

    text = stm.normalise(name)
    assert stm._syllables(text) == tuple(s for s in lazy_pinyin(text, errors=stm._ascii_words) if s)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_NAME_CHARS, min_size=0, max_size=8).map("".join), st.sampled_from(["person", "org"]),
       st.lists(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), max_size=2),
       st.sampled_from([None, "110101199003074522"]))
def test_name_index_and_record_terms_make_customer_terms(name: str, kind: str, phones: list[str],
                                                         ident: str | None) -> None:
    """What the import writes from its per-name cache (name_index + record_terms) is what a
    customer created in the form gets (customer_terms, search_columns)."""
    from crm_tui.domain.search_terms import name_index, record_terms, search_columns

    sname, spinyin, terms = name_index(name, kind)
    assert (sname, spinyin) == search_columns(name, kind)
    assert terms | record_terms("KH2026-000001", phones, (ident, None)) == customer_terms(
        name=name, kind=kind, number="KH2026-000001", phones=phones, idents=(ident, None))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_NAME_CHARS | st.sampled_from(["\t", "\u3000", "  "]), min_size=0, max_size=10).map("".join),
       st.sampled_from(["person", "org"]))
def test_name_index_is_the_reference_terms_and_columns(name: str, kind: str) -> None:
    """name_index (issue 22: the import's fast path, one pass from the syllables) gives what the
    reference functions give: normalise, pinyin_key(pinyin_forms), name_terms | pinyin_terms."""
    from crm_tui.domain import search_terms as stm

    got = stm.name_index(name, kind)
    if not name:
        assert got == (None, None, frozenset())
        return
    forms = stm.pinyin_forms(name, person=kind == "person")
    assert got == (stm.normalise(name), stm.pinyin_key(forms),
                   frozenset(stm.name_terms(name) | stm.pinyin_terms(forms)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_NAME_CHARS | st.sampled_from(["\t", "  "]), min_size=0, max_size=14).map("".join),
       st.sampled_from(["person", "org"]))
def test_name_index_parts_are_name_index_by_kind_without_repeats(name: str, kind: str) -> None:
    """The import writes a name's terms from name_index_parts: the character terms and the pinyin
    terms, each once (a repeat would be a second (term, customer) row), together name_index's."""
    from crm_tui.domain import search_terms as stm

    sname, key, chars, pinyin = stm.name_index_parts(name, kind)
    assert len(set(chars)) == len(chars) and len(set(pinyin)) == len(pinyin)
    assert all(t.startswith("n:") for t in chars) and all(t.startswith("p:") for t in pinyin)
    assert (sname, key, frozenset(chars + pinyin)) == stm.name_index(name, kind)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_NAME_CHARS, min_size=0, max_size=10).map("".join))
def test_segment_is_pypinyins_seg(name: str) -> None:
    """The all-Han shortcut of the segmentation cuts as pypinyin's own Pinyin.seg does."""
    from crm_tui.domain import search_terms as stm

    text = stm.normalise(name)
    assert stm._segment(text) == stm._pinyin_engine().seg(text)


@pytest.mark.parametrize("name", ["单田芳", "单", "曾", "王", "长江实业（集团）有限公司", "重庆银行", "Anna 王", "王 五",
                                  "欧阳娜娜", "a", "1", "ab  cd", "\u3000", "〇"])
def test_name_index_of_chosen_names(name: str) -> None:
    from crm_tui.domain import search_terms as stm

    for kind in ("person", "org"):
        forms = stm.pinyin_forms(name, person=kind == "person")
        assert stm.name_index(name, kind) == (stm.normalise(name), stm.pinyin_key(forms),
                                              frozenset(stm.name_terms(name) | stm.pinyin_terms(forms)))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789１２-+ ", max_size=14), st.lists(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
                                                                   max_size=3))
def test_record_terms_are_the_phone_terms(odd: str, phones: list[str]) -> None:
    from crm_tui.domain import search_terms as stm

    want = {"k:KH2026-000001"}.union(*(stm.phone_terms(p) for p in [odd, *phones]))
    assert stm.record_terms("KH2026-000001", [odd, *phones]) == want

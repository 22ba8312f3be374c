"""The import's pending search terms (batch._TermRuns, issue 22 import speed): written in the
order of one stable sort of every (term, customer) pair, each term's pairs pointing to one str
(executemany reads them in term order, long after they were made in customer order)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crm_tui.services.importing import batch

_TERM = st.sampled_from(["k:KH2026-000001", "k:KH2026-000002", "n:王", "n:王伟", "n:伟", "p:wang", "p:wangwei",
                         "p:w", "t:1380", "t:3800", "t:0013", "x:110101", "x:91110000"])


def _fresh(text: str) -> str:
    return (text + "x")[:-1]  # an equal string, a new object


def _runs(rows: list[list[str]], skip: set[int] = frozenset()) -> batch._TermRuns:  # type: ignore[assignment]
    """Customer i (ascending) with the terms rows[i], added as _write_rows adds them."""
    held = batch._TermRuns()
    name, pinyin, phone = held.runs
    for cid, terms in enumerate(rows, start=1):
        for t in dict.fromkeys(terms):
            t = _fresh(t)
            if t[:2] == "k:":
                held.numbers.append((t, cid))
            elif t[:2] == "x:":
                held.idents.append((t, cid))
            else:
                run = name if t[:2] == "n:" else pinyin if t[:2] == "p:" else phone
                run.setdefault(t, []).append(cid)
    if skip:
        held.drop(set(skip))
    return held


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_TERM, max_size=8), max_size=12), st.sets(st.integers(1, 12), max_size=4))
def test_sorted_is_one_stable_sort_of_every_pair_of_the_customers_kept(rows: list[list[str]], skip: set[int]) -> None:
    want = sorted(((t, cid) for cid, terms in enumerate(rows, start=1) for t in dict.fromkeys(terms)
                   if cid not in skip), key=lambda p: p[0])
    got = _runs(rows, skip).sorted()
    assert got == want
    assert got == sorted(got)  # (term, customer) order


def test_the_pairs_of_a_term_share_one_string() -> None:
    got = _runs([["n:王", "t:1380"], ["n:王", "t:1380"], ["t:1380"]]).sorted()
    assert got == [("n:王", 1), ("n:王", 2), ("t:1380", 1), ("t:1380", 2), ("t:1380", 3)]
    assert got[0][0] is got[1][0]
    assert got[2][0] is got[3][0] is got[4][0]


def test_a_dropped_customer_leaves_no_term_behind() -> None:
    held = _runs([["k:KH2026-000001", "n:王", "t:1380"], ["k:KH2026-000002", "n:伟", "t:1380", "x:110101"]], {2})
    assert held.runs[0] == {"n:王": [1]} and held.runs[2] == {"t:1380": [1]}
    assert held.sorted() == [("k:KH2026-000001", 1), ("n:王", 1), ("t:1380", 1)]

"""The import's pending search terms share one str object per distinct term (issue 22 import
speed: executemany reads them in term order, long after they were made in customer order)."""

from __future__ import annotations

from crm_tui.services.importing import batch


def _fresh(text: str) -> str:
    return (text + "x")[:-1]  # an equal string, a new object


def test_equal_terms_come_back_as_one_object_with_the_same_values() -> None:
    share = batch._TermShare()
    first = share(["t:1380", "n:王", "p:wang"])
    again = share({_fresh("t:1380")})
    assert first == ("t:1380", "n:王", "p:wang")
    assert again == ("t:1380",)
    assert again[0] is first[0]
    assert share([_fresh("n:王"), "n:伟"])[0] is first[1]


def test_sharing_is_bounded_and_only_sharing_is_lost(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(batch, "SHARE_MAX", 2)
    share = batch._TermShare()
    a = share(["t:0001", "t:0002"])
    b = share([_fresh("t:0001")])  # full: forgotten first, then remembered anew
    assert b == ("t:0001",) and b[0] is not a[0]
    assert len(share.seen) == 1

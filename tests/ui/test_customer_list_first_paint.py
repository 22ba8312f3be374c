"""The customer list (F2) shows its first page before its count (issue 22, item 1): the count comes
from a second worker, here held on a gate, and the filter row is filled once the rows are painted.
Leaving the screen or signing out while the count is still loading is harmless."""

from __future__ import annotations

import pytest
from textual.widgets import Select, Static

from crm_tui.services import customers as cs
from crm_tui.ui.screens.customers import CustomerListScreen
from crm_tui.ui.screens.home import HomeScreen
from crm_tui.ui.screens.login import LoginScreen
from tests.ui.conftest import make, settle, sign_in, staff_actor
from tests.ui.workers_harness import Gate, assert_alive, sign_out

SIZE = (120, 36)


@pytest.fixture
def count_gate(monkeypatch: pytest.MonkeyPatch) -> Gate:
    """Holds the list's count worker (and only it) until the test opens the gate."""
    g = Gate()
    g.close()
    monkeypatch.setattr(cs, "search_count", g.wrap(cs.search_count))
    return g


async def _open_list_until_rows(pilot, gate: Gate) -> CustomerListScreen:  # type: ignore[no-untyped-def]
    """F2, then wait (no settle: that waits for the held worker) until the rows and the count's
    worker are there."""
    await pilot.press("f2")
    for _ in range(200):
        screen = pilot.app.screen
        if isinstance(screen, CustomerListScreen) and screen.rows and gate.started:
            return screen
        await pilot.pause()
    raise AssertionError("the list showed no rows while its count was held")


def _status(screen: CustomerListScreen) -> str:
    return str(screen.query_one("#customer-status", Static).render())


async def test_rows_are_shown_before_the_count(ui_services, en, count_gate) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        screen = await _open_list_until_rows(pilot, count_gate)
        assert count_gate.inflight == 1  # the count is still loading ...
        assert "found" not in _status(screen)  # ... and not shown, while the rows are
        assert len(screen.rows) == screen.query_one("#customer-table").row_count > 0
        assert len(screen.query(Select)) == 3  # the filter row was filled after the rows, not after the count
        await count_gate.drain(pilot)
        expected = cs.search_count(ui_services, staff_actor(ui_services, "jingli"), "")
        assert _status(screen).startswith(f"{expected} found")
        assert_alive(app, count_gate)


async def test_a_new_query_is_counted_again_and_an_old_count_is_dropped(ui_services, en, count_gate) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        screen = await _open_list_until_rows(pilot, count_gate)
        seq = screen.query_seq
        screen._show_count("999", seq - 1)  # a count asked for an older query arrives late
        assert "999" not in _status(screen)
        await count_gate.drain(pilot)
        actor = staff_actor(ui_services, "jingli")
        await pilot.press("z", "h")
        await settle(pilot)
        assert _status(screen).startswith(f"{cs.search_count(ui_services, actor, 'zh')} found")
        assert {r.id for r in screen.rows} == {r.id for r in cs.search(ui_services, actor, "zh", limit=100).rows}
        assert_alive(app, count_gate)


async def test_leaving_while_the_count_loads_is_harmless(ui_services, en, count_gate) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        screen = await _open_list_until_rows(pilot, count_gate)
        await pilot.press("escape")  # home, with the count still held
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        await count_gate.drain(pilot)  # its result arrives for a screen that is gone
        assert isinstance(app.screen, HomeScreen)
        assert not screen.is_attached
        # the list opens again as before, rows and count
        screen = await _open_list_until_rows(pilot, count_gate)
        await count_gate.drain(pilot)
        assert "found" in _status(screen)
        assert_alive(app, count_gate)


async def test_signing_out_while_the_count_loads_is_harmless(ui_services, en, count_gate) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        await _open_list_until_rows(pilot, count_gate)
        await sign_out(pilot)
        await count_gate.drain(pilot)
        assert isinstance(app.screen, LoginScreen)
        assert_alive(app, count_gate)

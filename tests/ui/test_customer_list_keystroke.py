"""A keystroke in the customer list does only the work its settled result needs (issue 22, keystroke
median): the count of a search typed after the first paint comes with its page (one worker, not
two), and the line under the table that shows a row's cut cells is rewritten only when what it shows
changes (each rewrite asks for a layout pass of the whole screen). What the screen shows is the same."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Static

from crm_tui.services import customers as cs
from crm_tui.ui.screens.customers import CustomerListScreen
from crm_tui.ui.widgets import columns
from tests.ui.conftest import make, settle, sign_in, staff_actor, type_text


def _status(screen: CustomerListScreen) -> str:
    return str(screen.query_one("#customer-status", Static).render())


async def test_after_the_first_paint_a_search_reads_its_count_with_its_page(ui_services, en, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls: list[str] = []
    real = cs.search_count

    def counted(svc, actor, query, *a, **k):  # type: ignore[no-untyped-def]
        calls.append(query)
        return real(svc, actor, query, *a, **k)

    monkeypatch.setattr(cs, "search_count", counted)
    app = make(ui_services)
    async with app.run_test(size=(120, 36)) as pilot:
        await sign_in(pilot, "jingli")
        await pilot.press("f2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CustomerListScreen)
        assert calls == [""]  # the first page alone, its count after it
        actor = staff_actor(ui_services, "jingli")
        assert _status(screen).startswith(f"{real(ui_services, actor, '')} found")
        for query in ("zh", "1"):
            screen.query_one("#q").value = ""  # type: ignore[attr-defined]
            await settle(pilot)
            await type_text(pilot, query)
            await settle(pilot)
            full = cs.search(ui_services, actor, query, limit=100)
            assert _status(screen).startswith(f"{full.count_hint} found")
            assert [r.id for r in screen.rows] == [r.id for r in full.rows]
        assert calls == [""]  # no second worker for any later search


@pytest.mark.parametrize("size", [(160, 40), (80, 24)])
async def test_the_row_detail_is_rewritten_only_when_it_changes(ui_services, zh, monkeypatch, size) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=size) as pilot:
        await sign_in(pilot, "jingli")
        await pilot.press("f2")
        await settle(pilot)
        screen = app.screen
        table = screen.query_one(DataTable)
        writes: list[str] = []
        real = columns.RowDetail.update

        def update(self, *a, **k):  # type: ignore[no-untyped-def]
            writes.append(str(a[0]) if a else "")
            return real(self, *a, **k)

        monkeypatch.setattr(columns.RowDetail, "update", update)
        columns.fit_and_detail(table)
        columns.fit_and_detail(table)
        assert writes == []  # nothing changed: nothing written, no layout asked for
        await type_text(pilot, "z")
        await settle(pilot)
        assert len(writes) <= 1  # at most once for the new cursor row, though refitted after its page
        detail = table.__dict__.get("_crm_row_detail")
        cells = columns.hidden_cells(table, columns.room_of(table))
        if detail is not None:  # the line shows the cursor row's cut cells, or is hidden without any
            assert detail.display == bool(cells)
            for _label, value in cells:
                assert value in str(detail.render())
        else:
            assert not cells
        for _ in range(3):  # the cursor moves: the line follows the row
            await pilot.press("down")
            await settle(pilot)
            cells = columns.hidden_cells(table, columns.room_of(table))
            detail = table.__dict__.get("_crm_row_detail")
            if cells:
                assert detail is not None and detail.display
                assert all(value in str(detail.render()) for _label, value in cells)
            elif detail is not None:
                assert not detail.display

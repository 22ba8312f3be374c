"""Issue 6 'done when', keyboard only: the front desk registers a walk-in in a few keystrokes, one key
makes the archive and the card, the consultant finds the visit in the due list on the right working
day, logs it, and it leaves the due list because the level's cadence moved the date (R-FU-3, R-FU-4)."""

from __future__ import annotations

from datetime import datetime

from textual.widgets import DataTable, Input, OptionList, Select

from crm_tui.services import followups as fu
from crm_tui.ui.screens.followups import CardDetailScreen, FollowupsScreen, VisitForm
from crm_tui.ui.screens.register import RegisterScreen
from tests.ui.conftest import make, settle, sign_in, staff_actor, type_text

SIZE = (120, 36)


async def _choose(pilot, select_id: str, value: str) -> None:  # type: ignore[no-untyped-def]
    """Open a Select with Enter and move with the arrow keys to ``value``, then Enter."""
    sel = pilot.app.screen.query_one(select_id, Select)
    sel.focus()
    await pilot.press("enter")
    await pilot.pause()
    for _i in range(12):
        overlay = sel.query_one("SelectOverlay")
        if sel._options[overlay.highlighted or 0][1] == value:  # type: ignore[attr-defined]
            break
        await pilot.press("down")
    await pilot.press("enter")
    await pilot.pause()
    assert sel.value == value


async def test_walk_in_to_card_to_visit_leaves_the_due_list(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "qiantai")
        await pilot.press("f3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RegisterScreen)
        assert screen.focused is screen.query_one("#reg-name", Input)
        await type_text(pilot, "钱多多")
        await settle(pilot)
        assert not screen.query_one("#reg-matches", OptionList).display  # no archive has this name
        await pilot.press("enter")
        await type_text(pilot, "13987654321")
        await pilot.press("enter", "enter")  # arrival: now
        await _choose(pilot, "#reg-source", "walk_in")
        await type_text(pilot, "途观L")
        await pilot.press("enter")
        await type_text(pilot, "妻子")
        await _choose(pilot, "#reg-consultant", str(staff_actor(ui_services, "jingli").staff_id))
        screen.query_one("#reg-summary", Input).focus()
        await type_text(pilot, "首次到店，看SUV")
        await pilot.press("enter")  # Enter in the last field saves the line
        await settle(pilot)
        assert screen.query_one("#reg-name", Input).value == ""
        line = screen.rows[0]
        assert line.name == "钱多多" and line.source == "walk_in" and line.consultant == "王建国" \
            and line.customer_id is None
        # one key: archive and card from the highlighted line
        screen.query_one("#reg-table", DataTable).focus()
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert isinstance(app.screen, CardDetailScreen)
        card = app.screen.view
        assert card is not None and card.owner == "王建国" and card.values["product"] == "途观L"
        assert card.next_due is not None and card.next_due.isoformat() == "2026-11-24"  # N: next working day

    # the next working day the consultant signs in and finds it due today
    ui_services.clock.now = datetime(2026, 11, 24, 9, 0)
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        await settle(pilot)
        assert isinstance(app.screen, FollowupsScreen)  # overdue visits in the demo: opens on the due list
        await pilot.press("1")
        await settle(pilot)
        numbers = [r.number for r in app.screen.rows]
        assert card.number in numbers
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=numbers.index(card.number))
        await pilot.press("ctrl+k")
        await settle(pilot)
        assert isinstance(app.screen, VisitForm)
        await _choose(pilot, "#v-level", "B")
        app.screen.query_one("#v-content", Input).focus()
        await type_text(pilot, "电话回访 约周六试驾")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, FollowupsScreen)
        assert card.number not in [r.number for r in app.screen.rows]
    view = fu.get_card(ui_services, staff_actor(ui_services, "jingli"), card.id)
    assert view.next_due is not None and view.next_due.isoformat() == "2026-12-03"  # Tue + 7 working days
    assert view.visits[0].content == "电话回访 约周六试驾"


async def test_new_card_from_the_archive_search_and_an_ownership_conflict(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    """A consultant opens a card for their own customer picked with the archive search; for a
    colleague's customer the form shows the owner and files a claim instead (信息归属)."""
    from crm_tui.services import customers as cs
    from crm_tui.ui.screens.followups import CardFormScreen, CustomerPickerScreen
    from crm_tui.ui.widgets.dialogs import PromptDialog

    jingli = staff_actor(ui_services, "jingli")
    own = cs.create_customer(ui_services, jingli, "person", {"name": "欧阳青"})
    other = cs.create_customer(ui_services, staff_actor(ui_services, "jingli2"), "person", {"name": "欧阳红"})
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        await settle(pilot)
        assert isinstance(app.screen, FollowupsScreen)
        for ref, name in ((own, "欧阳青"), (other, "欧阳红")):
            await pilot.press("ctrl+n")
            await settle(pilot)
            assert isinstance(app.screen, CustomerPickerScreen)
            await type_text(pilot, name)
            await settle(pilot)
            await pilot.press("enter")  # the only match: picked (issue 21)
            await settle(pilot)
            assert isinstance(app.screen, CardFormScreen) and app.screen.customer_id == ref.id
            await _choose(pilot, "#fld-source", "referral")
            await _choose(pilot, "#fld-intent_level", "A")
            app.screen.query_one("#fld-first_reception_summary").focus()
            await type_text(pilot, "来电咨询")
            await pilot.press("ctrl+s")
            await settle(pilot)
            if ref is own:
                assert isinstance(app.screen, CardDetailScreen)
                assert app.screen.view is not None and app.screen.view.values["intent_level"] == "A"
                await pilot.press("escape")
                await settle(pilot)
        assert isinstance(app.screen, PromptDialog)
        assert "赵丽华" in app.screen.question
        await type_text(pilot, "customer asked for me")
        await pilot.press("enter")
        await settle(pilot)
    chief = staff_actor(ui_services, "kezhang")
    claims = fu.pending_claims(ui_services, chief)
    assert [(c.customer_id, c.claimant) for c in claims] == [(other.id, "王建国")]
    assert fu.customer_cards(ui_services, chief, other.id) == []

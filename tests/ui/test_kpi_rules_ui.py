"""Issue 20 in the TUI: the archive names the risk rating and its measures (R-KPI-2); the reports
screen shows the weekly follow-up review (R-FU-5) and the staff metrics with registered/handled,
results and accuracy columns, shares with their counts (R-KPI-1). Keyboard only."""

from __future__ import annotations

from textual.widgets import DataTable

from crm_tui.services import customers as cs
from crm_tui.ui.screens.customers import profile_text
from crm_tui.ui.screens.reports import ReportsScreen
from tests.ui.conftest import make, settle, sign_in


def test_r_kpi_2_archive_names_risk_rating_and_its_measures(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    """R-KPI-2: the detail names the risk rating, the credit measures it implies and the risk
    response the regulation asks for (data/customer_policy.toml)."""
    from crm_tui import demo
    from crm_tui.services import staff

    actor = staff.sign_in(ui_services, "jingli", demo.DEMO_PASSWORD).actor
    ref = cs.create_customer(ui_services, actor, "person", {"name": "风险测试", "risk_rating": "medium"})
    text = profile_text(cs.get_customer(ui_services, actor, ref.id))
    assert "Risk rating Medium risk: limit 500,000, term 30 days, prepayment 30%" in text
    assert "Risk response: Transfer: require a guarantee or collateral" in text


async def test_r_fu_5_reports_follow_up_review_tab(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    """R-FU-5: key 5 shows new against existing cards, cards by intent level and per consultant for
    the week on screen; R-KPI-1: the staff tab has registered/handled, won/lost and accuracy."""
    app = make(ui_services)
    async with app.run_test(size=(120, 36)) as pilot:
        await sign_in(pilot, "kezhang")
        await pilot.press("f6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReportsScreen) and screen.pack is not None and screen.pack.review is not None
        await pilot.press("5")
        await settle(pilot)
        total = screen.query_one("#report-review-total", DataTable)
        assert total.has_focus and total.row_count == 1
        assert [str(c.label) for c in total.columns.values()][:3] == ["Cards", "Opened in the period", "Existing cards"]
        levels = screen.query_one("#report-review-levels", DataTable)
        assert levels.row_count >= 5
        staff = screen.query_one("#report-review-staff", DataTable)
        assert staff.row_count == len(screen.pack.review.staff)
        await pilot.press("2")
        await settle(pilot)
        heads = [str(c.label) for c in screen.query_one("#report-staff", DataTable).columns.values()]
        for h in ("Tickets registered", "Tickets handled", "Cards won", "Cards lost", "Corrections",
                  "Refused saves", "Working hours to respond"):
            assert h in heads

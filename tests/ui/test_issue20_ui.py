"""Issue 20 in the TUI, keyboard only: the account form asks for the approver (R-SEC-1), consents
added and withdrawn from the archive (R-CUST-6), the informing and survey due lists (R-CUST-5,
R-CUST-15), A/B covers set and revoked by a supervisor (R-SEC-7)."""

from __future__ import annotations

from textual.widgets import Input, Static

from tests.ui.conftest import make, settle, sign_in, type_text

SIZE = (120, 36)


def _count(svc, table: str, where: str = "1=1", **params) -> int:  # type: ignore[no-untyped-def]
    from crm_tui.store import db

    return int(db.scalar(svc.store, f"SELECT count(*) FROM {table} WHERE {where}", **params))  # noqa: S608


async def test_r_sec_1_account_form_refuses_a_missing_approver(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.staff import AccountForm

    before = _count(ui_services, "staff")
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "admin")
        await pilot.press("f7")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, AccountForm)
        await type_text(pilot, "xinren")
        await pilot.press("tab")
        await type_text(pilot, "新人")
        await pilot.press("tab", "tab", "space")  # the approver left blank; tick the first role
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        line = str(form.query_one("#form-message", Static).render())
        assert "department head's approval" in line, line
        assert form.focused is form.query_one("#approval", Input)
        assert _count(ui_services, "staff") == before
        await type_text(pilot, "陈科长 2026-11-20")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is not form
    assert _count(ui_services, "staff", "username = 'xinren' AND approval_note = '陈科长 2026-11-20'") == 1

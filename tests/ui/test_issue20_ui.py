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


async def _pick(pilot, downs: int = 1) -> None:  # type: ignore[no-untyped-def]
    """In a focused drop-down: open it, go down ``downs`` options past the prompt, take it."""
    await pilot.press("enter")
    await pilot.pause()
    for _ in range(downs):
        await pilot.press("down")
    await pilot.press("enter")
    await pilot.pause()


async def test_r_cust_6_new_archive_asks_for_the_purpose_and_method_of_the_consent(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.customer_form import CustomerFormScreen
    from tests.ui.conftest import staff_actor

    before = _count(ui_services, "customer")
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        app.push_screen(CustomerFormScreen(ui_services, staff_actor(ui_services, "jingli"), None))
        await settle(pilot)
        form = app.screen
        await type_text(pilot, "同意测试")
        form.query_one("#consent-basic").focus()
        await pilot.press("space")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        line = str(form.query_one("#form-message", Static).render())
        assert "Purpose told to the customer" in line and "How the consent was given" in line, line
        assert form.focused is form.query_one("#fld-consent_purpose", Input)
        assert _count(ui_services, "customer") == before
        await type_text(pilot, "购车及售后服务")
        await pilot.press("tab")
        await _pick(pilot)  # the first way: signed form
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is not form
    assert _count(ui_services, "customer_consent k JOIN customer c ON c.id = k.customer_id",
                  "c.name = '同意测试' AND k.purpose = '购车及售后服务' AND k.method = 'signed_form'") == 1


async def test_r_cust_6_consent_added_and_withdrawn_from_the_archive_with_keys(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.services import customers as cs
    from crm_tui.ui.screens.consent import ConsentForm, ConsentsDialog
    from crm_tui.ui.screens.customers import CustomerDetailScreen
    from crm_tui.ui.widgets.dialogs import ConfirmDialog, PromptDialog
    from tests.ui.conftest import staff_actor

    jingli = staff_actor(ui_services, "jingli")
    ref = cs.create_customer(ui_services, jingli, "person", {"name": "补登证件"})
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        app.push_screen(CustomerDetailScreen(ui_services, jingli, ref.id))
        await settle(pilot)
        await pilot.press("ctrl+a")
        await settle(pilot)
        assert isinstance(app.screen, ConsentsDialog)
        await pilot.press("a")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ConsentForm)
        await _pick(pilot, 2)  # scope: sensitive
        await pilot.press("ctrl+s")  # no purpose, no method
        await settle(pilot)
        assert app.screen is form
        assert "required" in str(form.query_one("#purpose-error", Static).render())
        assert _count(ui_services, "customer_consent", "customer_id = :c", c=ref.id) == 0
        form.query_one("#purpose").focus()
        await type_text(pilot, "身份核验")
        await pilot.press("tab")
        await _pick(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ConsentsDialog)
        assert _count(ui_services, "customer_consent", "customer_id = :c AND scope = 'sensitive' AND"
                      " purpose = '身份核验' AND withdrawn_at IS NULL", c=ref.id) == 1
        await pilot.press("w")
        await settle(pilot)
        assert isinstance(app.screen, PromptDialog)
        await type_text(pilot, "来电撤回")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")
        await settle(pilot)
        assert "Consent withdrawn" in str(app.screen.query_one("#form-message", Static).render())
    assert _count(ui_services, "customer_consent", "customer_id = :c AND withdrawn_at IS NOT NULL", c=ref.id) == 1


async def test_r_cust_5_the_to_be_told_list_is_worked_from_the_watch_lists(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.services import customers as cs
    from crm_tui.ui.screens.consent import ToldForm
    from crm_tui.ui.screens.customers import WatchListScreen
    from tests.ui.conftest import staff_actor

    jingli = staff_actor(ui_services, "jingli")
    ref = cs.create_customer(ui_services, jingli, "person", {"name": "改地址", "address": "北京市海淀区1号"})
    v = cs.get_customer(ui_services, jingli, ref.id).version
    cs.update_customer(ui_services, jingli, ref.id, {"address": "北京市朝阳区2号"}, expected_version=v)
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        app.push_screen(WatchListScreen(ui_services, jingli))
        await settle(pilot)
        await pilot.press("0")
        await settle(pilot)
        screen = app.screen
        assert [r.customer.id for r in screen.items] == [ref.id]
        await pilot.press("ctrl+g")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ToldForm)
        await pilot.press("ctrl+s")  # how? not said
        await settle(pilot)
        assert app.screen is form
        assert _count(ui_services, "customer_inform_due", "informed_at IS NOT NULL") == 0
        await _pick(pilot)  # a call
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        await settle(pilot)
        assert screen.items == []
    assert _count(ui_services, "customer_inform_due", "customer_id = :c AND informed_method = 'call'"
                  " AND informed_by_id = :s", c=ref.id, s=jingli.staff_id) == 1


async def test_r_sec_7_a_section_chief_sets_and_revokes_a_cover_from_the_palette(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.covers import CoversScreen
    from crm_tui.ui.screens.staff import CoverForm
    from crm_tui.ui.widgets.dialogs import ConfirmDialog

    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "kezhang")
        await pilot.press("ctrl+p")
        await settle(pilot)
        await type_text(pilot, "A/B posts")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CoversScreen)
        screen = app.screen
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, CoverForm)
        await type_text(pilot, "jingli")
        await pilot.press("tab")
        await type_text(pilot, "jingli2")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is screen
        await settle(pilot)
        assert [(c.absent_name, c.backup_name) for c in screen.rows] == [("王建国", "赵丽华")]
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")
        await settle(pilot)
        assert screen.rows == []
    assert _count(ui_services, "audit_log", "action IN ('staff.cover_set', 'staff.cover_revoked')"
                  " AND actor_name = 'kezhang'") == 2


async def test_r_cust_15_surveys_due_list_and_recording_one_with_keys(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.services import surveys
    from crm_tui.ui.screens.complaints import FeedbackScreen
    from crm_tui.ui.screens.customers import WatchListScreen
    from tests.ui.conftest import staff_actor

    jingli = staff_actor(ui_services, "jingli")
    first = surveys.due_list(ui_services, jingli, limit=1).rows[0]  # the demo's longest overdue survey
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        app.push_screen(WatchListScreen(ui_services, jingli))
        await settle(pilot)
        await pilot.press("0", "]")
        await settle(pilot)
        screen = app.screen
        assert screen.items[0].customer.id == first.customer.id
        await pilot.press("ctrl+b")
        await settle(pilot)
        assert isinstance(app.screen, FeedbackScreen)
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("5")  # the score; the text may stay empty for a survey
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        await settle(pilot)
        assert app.screen is screen
        assert first.customer.id not in [r.customer.id for r in screen.items]
    assert _count(ui_services, "customer_feedback", "customer_id = :c AND kind = 'survey' AND score = 5"
                  " AND at = :at", c=first.customer.id, at=ui_services.now()) == 1

"""Issue 8 'done when', keyboard only: a manager files, a section chief and a deputy manager approve,
the chief applies, internal control acknowledges -- four people, each signed in as themselves; the
customer's grade, timeline and audit trail tell the whole story (R-GRD-3, R-GRD-4)."""

from __future__ import annotations

from sqlalchemy import text
from textual.widgets import Select, Static, TextArea

from crm_tui.services import customers as cs
from crm_tui.services import grades as gs
from crm_tui.ui.screens.customer_form import CustomerFormScreen
from crm_tui.ui.screens.grades import ApplicationFormScreen, ApplicationScreen, GradesScreen
from crm_tui.ui.widgets.dialogs import ConfirmDialog, PromptDialog
from tests.ui.conftest import make, settle, sign_in, staff_actor, type_text

SIZE = (120, 36)


def _ungraded(svc) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    with svc.store.read() as s:
        r = s.execute(text("SELECT id, number, name FROM customer WHERE grade IS NULL AND erased_at IS NULL AND id NOT IN"
                           " (SELECT customer_id FROM grade_application) ORDER BY id LIMIT 1")).one()
    return int(r[0]), str(r[1]), str(r[2])


async def _switch_user(pilot, username: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+q")
    await pilot.pause()
    assert isinstance(pilot.app.screen, ConfirmDialog)
    await pilot.press("y")
    await settle(pilot)
    await sign_in(pilot, username)


async def _open(pilot, queue_key: str, app_id: int) -> ApplicationScreen:  # type: ignore[no-untyped-def]
    """F5, the queue's number key, arrow down to the application (the demo has others), Enter."""
    await pilot.press("f5")
    await settle(pilot)
    queues = pilot.app.screen
    assert isinstance(queues, GradesScreen)
    await pilot.press(queue_key)
    await settle(pilot)
    ids = [r.id for r in queues.rows]
    assert app_id in ids
    for _i in range(ids.index(app_id)):
        await pilot.press("down")
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ApplicationScreen), screen
    return screen


async def test_four_people_file_approve_apply_and_acknowledge(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    svc = ui_services
    cid, number, name = _ungraded(svc)
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        # 1. the customer manager files
        await sign_in(pilot, "jingli")
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ApplicationFormScreen)
        await type_text(pilot, number)
        await settle(pilot)
        await pilot.press("enter")  # the only match: chosen (issue 21)
        await settle(pilot)
        assert form.customer_id == cid
        assert isinstance(app.focused, Select)
        await pilot.press("enter", "down", "down", "enter")  # (choose) -> A -> B
        await pilot.pause()
        assert form.query_one("#g-to", Select).value == "B"
        assert isinstance(app.focused, TextArea)  # the choice moved on to the reason
        await type_text(pilot, "签约两年，信用良好，申请升级")
        await pilot.press("ctrl+s")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, ApplicationScreen), app.screen
        app_id = detail.app_id
        assert detail.view is not None and detail.view.state == "submitted" and detail.view.actions == ()

        # 2. the section chief approves with a comment
        await _switch_user(pilot, "kezhang")
        detail = await _open(pilot, "1", app_id)
        assert detail.app_id == app_id and detail.view.actions == ("approve_chief", "reject_chief")  # type: ignore[union-attr]
        await pilot.press("ctrl+a")
        await pilot.pause()
        assert isinstance(app.screen, PromptDialog)
        await type_text(pilot, "情况属实")
        await pilot.press("enter")
        await settle(pilot)
        assert detail.view.state == "chief_approved"  # type: ignore[union-attr]

        # 3. the deputy manager approves
        await _switch_user(pilot, "fujingli")
        detail = await _open(pilot, "1", app_id)
        await pilot.press("ctrl+a")
        await pilot.pause()
        await type_text(pilot, "同意")
        await pilot.press("enter")
        await settle(pilot)
        assert detail.view.state == "approved"  # type: ignore[union-attr]

        # 4. the section chief applies it
        await _switch_user(pilot, "kezhang")
        detail = await _open(pilot, "2", app_id)
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("y")
        await settle(pilot)
        assert detail.view.state == "applied"  # type: ignore[union-attr]

        # 5. internal control acknowledges the filing
        await _switch_user(pilot, "neiguan")
        detail = await _open(pilot, "3", app_id)
        await pilot.press("ctrl+k")
        await pilot.pause()
        await pilot.press("enter")  # no note
        await settle(pilot)
        assert detail.view.state == "acknowledged"  # type: ignore[union-attr]
        assert [s.staff for s in detail.view.steps] == ["王建国", "陈志强", "刘伟", "陈志强", "孙静"]  # type: ignore[union-attr]

    manager = staff_actor(svc, "jingli")
    assert cs.get_customer(svc, manager, cid).grade == "B"
    titles = [e.title for e in cs.timeline(svc, manager, cid) if e.kind == "grade"]
    assert titles[0] == "Filing acknowledged by internal control" and titles[-1] == "Application filed"
    with svc.store.read() as s:
        acts = [r[0] for r in s.execute(text("SELECT actor_name || ':' || action FROM audit_log WHERE entity ="
                                             " 'grade_application' AND entity_id = :e ORDER BY id"), {"e": str(app_id)})]
    assert acts == ["jingli:grade.file", "kezhang:grade.approve_chief", "fujingli:grade.approve_deputy",
                    "kezhang:grade.apply", "neiguan:grade.acknowledge"]


async def test_bad_input_on_the_form_shows_messages_and_files_nothing(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    svc = ui_services
    cid, number, _name = _ungraded(svc)
    before = len(gs.queue(svc, staff_actor(svc, "jingli"), "mine").rows)
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = app.screen
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Choose the customer first." in str(form.query_one("#fld-customer-error", Static).render())
        await type_text(pilot, number)
        await settle(pilot)
        await pilot.press("enter", "enter")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ApplicationFormScreen)
        assert "Choose the proposed grade" in str(form.query_one("#fld-to_grade-error", Static).render())
        assert "This field is required" in str(form.query_one("#fld-reason-error", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, GradesScreen)
    assert len(gs.queue(svc, staff_actor(svc, "jingli"), "mine").rows) == before


async def test_r_grd_4_the_customer_form_shows_the_grade_read_only(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    svc = ui_services
    cid, _number, _name = _ungraded(svc)
    with svc.store.write() as s:  # as if applied by a grade change
        s.execute(text("UPDATE customer SET grade = 'C' WHERE id = :i"), {"i": cid})
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "jingli")
        app.push_screen(CustomerFormScreen(svc, staff_actor(svc, "jingli"), cid))
        await settle(pilot)
        form = app.screen
        grade = form.query_one("#fld-grade")
        assert isinstance(grade, Static) and not grade.can_focus
        assert "C regular customer" in str(grade.render())
        assert "grade" not in form.values()


async def test_r_grd_2_admin_opens_and_closes_a_period_chief_files_in_bulk(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.grades import ReviewScreen
    from crm_tui.ui.widgets.dialogs import InfoDialog

    svc = ui_services
    chief = staff_actor(svc, "kezhang")
    mine_before = len(gs.queue(svc, chief, "mine").rows)
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "admin")
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("ctrl+n")
        await pilot.pause()
        await pilot.press("enter")  # the suggested name and dates of this quarter
        await settle(pilot)
        await pilot.press("ctrl+w")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        periods = gs.periods(svc, staff_actor(svc, "admin"))
        assert periods[0].name == "2026Q4" and periods[0].closed_at is not None and periods[0].reviewed_at is None

        await _switch_user(pilot, "kezhang")
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        review = app.screen
        assert isinstance(review, ReviewScreen) and review.candidates
        chosen = [c.customer_id for c in review.candidates[:2]]
        await pilot.press("space", "space", "ctrl+s")
        await pilot.pause()
        await type_text(pilot, "2026年第四季度等级评定")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, InfoDialog)
        await pilot.press("enter")
        await settle(pilot)
    mine = gs.queue(svc, chief, "mine").rows
    assert len(mine) == mine_before + 2 and {r.customer_id for r in mine[:2]} == set(chosen)
    assert gs.periods(svc, chief)[0].reviewed_at is not None


async def test_r_grd_1_admin_proposes_the_contact_frequency_management_approves(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    """R-GRD-1 keyboard only: the administrator proposes a new contact frequency with its reason; it
    takes effect after the section chief (A) and then the deputy manager (A) approve it."""
    from crm_tui.ui.screens.grades import GradeEditDialog, StandardScreen

    svc = ui_services
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "admin")
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("ctrl+g")
        await settle(pilot)
        assert isinstance(app.screen, StandardScreen)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, GradeEditDialog)
        await pilot.press("tab", "tab", "tab", "ctrl+u")
        await type_text(pilot, "0")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, PromptDialog)
        await type_text(pilot, "adjust")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StandardScreen)
        assert "Contact every 1 to 366 days" in "\n".join(str(n.message) for n in app._notifications)
        assert gs.contact_days(svc, "B") == 15  # refused, unchanged
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("tab", "tab", "tab", "ctrl+u")
        await type_text(pilot, "10")
        await pilot.press("ctrl+s")
        await settle(pilot)
        await type_text(pilot, "more contact for B")
        await pilot.press("enter")
        await settle(pilot)
        assert "Proposal" in str(app.screen.query_one("#grade-standard-change", Static).render())
    assert gs.contact_days(svc, "B") == 15  # proposed, not yet in force
    for user in ("kezhang", "fujingli"):
        app = make(svc)
        async with app.run_test(size=SIZE) as pilot:
            await sign_in(pilot, user)
            await pilot.press("f5")
            await settle(pilot)
            await pilot.press("ctrl+g")
            await settle(pilot)
            await pilot.press("a")
            await settle(pilot)
            assert isinstance(app.screen, PromptDialog)
            await pilot.press("enter")
            await settle(pilot)
    assert gs.contact_days(svc, "B") == 10
    assert gs.standard_changes(svc, staff_actor(svc, "kezhang"))[0].state == "applied"


async def test_r_grd_1_contact_plan_lists_due_customers_by_keyboard(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    """R-GRD-1: the contact plan (Ctrl+T in the grade changes) lists the customers due or overdue by
    their grade's contact frequency; T shows every graded customer."""
    from textual.widgets import DataTable

    from crm_tui.ui.screens.grades import ContactPlanScreen

    svc = ui_services
    chief = staff_actor(svc, "kezhang")
    due = gs.contact_plan(svc, chief)
    every = gs.contact_plan(svc, chief, due_only=False)
    assert len(every) > len(due) > 0
    app = make(svc)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "kezhang")
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert isinstance(app.screen, ContactPlanScreen)
        table = app.screen.query_one(DataTable)
        assert table.row_count == len(due)
        await pilot.press("t")
        await settle(pilot)
        assert table.row_count == len(every)

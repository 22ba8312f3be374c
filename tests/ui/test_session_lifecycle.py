"""Sessions that come and go while screens load (issue 17): signing in and out from every area twenty
times in a row, Ctrl+L over a dialog that shows a revealed ID number, and settings changed by another
process applying to a running app within seconds."""

from __future__ import annotations

import pytest

from crm_tui.services import customers as cs
from crm_tui.services import settings
from crm_tui.services.context import Services
from crm_tui.ui.screens.home import HomeScreen
from crm_tui.ui.screens.login import LockScreen, LoginScreen
from tests.ui.conftest import make, settle, sign_in, staff_actor, type_text
from tests.ui.workers_harness import ROLES, Gate, assert_alive, gate, sign_out, unlock

__all__ = ["gate"]

ROUNDS = 20
# At 80x24 the same screens run the same workers: six rounds (both orders three times) check the small
# layout; twenty there as well doubled the suite's longest test for no new case.
ROUNDS_80X24 = 6


def _area_owners(svc: Services) -> dict[str, str]:
    """Every area (home included), with the first demo account (in ROLES order) that may open it; the
    register (F3) with the front desk, where the crash was reported."""
    from crm_tui.ui.app import _areas

    owners = {"home": ROLES["front_desk"]}
    for area in _areas():
        for username in ROLES.values():
            if area.permission is None or staff_actor(svc, username).can(area.permission):
                owners.setdefault(area.name, username)
                break
    owners["followups"] = ROLES["front_desk"]
    return owners


def _area_names() -> list[str]:
    from crm_tui.ui.app import _areas

    return ["home"] + [a.name for a in _areas()]


SIZES = pytest.mark.parametrize("size", [(120, 36), (80, 24)], ids=["120x36", "80x24"])


@SIZES
@pytest.mark.parametrize("area", _area_names())
async def test_sign_in_and_out_from_every_area_twenty_times(ui_services, en, gate: Gate, size, area: str, tmp_path,
                                                           monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Issue 17's done-when, at both sizes: each area screen (its function key, or the command palette
    for the holiday schedule and the incident register), twenty sign-ins and sign-outs in a row. One
    test per area and size, so the README's ``pytest -n 2`` spreads them over both workers."""
    owners = _area_owners(ui_services)
    assert set(owners) == set(_area_names()), "an area no demo account may open"
    await _sign_in_and_out(ui_services, gate, size, tmp_path, monkeypatch, area, owners[area])


async def _open_area(pilot, area: str) -> None:  # type: ignore[no-untyped-def]
    from textual.command import CommandPalette

    from crm_tui.i18n import _

    app = pilot.app
    found = next((a for a in app.areas if a.name == area), None)
    if area == "home":
        await pilot.press("f10")
    elif found is not None and found.key:
        await pilot.press(found.key)
    else:  # no key of its own: Ctrl+P, its name, Enter
        assert found is not None
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert CommandPalette.is_open(app)
        await type_text(pilot, _(found.label))
        await settle(pilot)
        await pilot.press("enter")
        await pilot.pause()
    await pilot.pause()


async def _sign_in_and_out(ui_services, gate: Gate, size, tmp_path, monkeypatch, area: str,  # type: ignore[no-untyped-def]
                           username: str) -> None:
    """The crash of issue 17: front desk, F3, Ctrl+Q, Enter closed the app when the register's
    worker finished after the screen had gone. Every round signs out with the screen's loader held
    (it finishes behind the login screen) or after it ran, in turn, so both orders happen every time."""
    monkeypatch.setenv("HOME", str(tmp_path))
    app = make(ui_services)
    async with app.run_test(size=size) as pilot:
        for round_ in range(ROUNDS if size == (120, 36) else ROUNDS_80X24):
            assert isinstance(app.screen, LoginScreen)
            await sign_in(pilot, username)
            await pilot.press("f10")
            await gate.drain(pilot)
            held = round_ % 2 == 0
            if held:
                gate.close()
            await _open_area(pilot, area)
            if area != "home":
                assert not isinstance(app.screen, HomeScreen), f"{area} did not open"
            if not held:
                await gate.drain(pilot)
            await sign_out(pilot)
            await gate.drain(pilot)
            assert_alive(app, gate)
        assert isinstance(app.screen, LoginScreen)


def _screen_text(app) -> str:  # type: ignore[no-untyped-def]
    import html

    return html.unescape(app.export_screenshot()).replace("\xa0", " ")


async def test_ctrl_l_locks_over_a_dialog_and_covers_a_revealed_id_number(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    chief = staff_actor(ui_services, "kezhang")
    # another manager's customer: its ID number needs a second person's approval (R-SEC-2), not this test's subject
    settings.set_setting(ui_services, staff_actor(ui_services, "admin"), "approval.required", "")
    app = make(ui_services)
    async with app.run_test(size=(120, 36)) as pilot:
        await sign_in(pilot, "kezhang")
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("enter", "enter")  # to the list, open the first archive
        await settle(pilot)
        customer_id = app.screen.customer_id
        await pilot.press("ctrl+r")
        await pilot.pause()
        await pilot.press("enter")  # the ID number
        await settle(pilot)
        await type_text(pilot, "核对身份")  # the reason, recorded in the audit trail
        await pilot.press("enter")
        await settle(pilot)
        dialog = app.screen
        assert type(dialog).__name__ == "InfoDialog"
        id_number = cs.reveal(ui_services, chief, customer_id, "id_number", "核对身份")
        assert id_number and id_number in _screen_text(app)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        assert id_number not in _screen_text(app), "the lock must cover the revealed value"
        await unlock(pilot)
        assert app.screen is dialog, "the unlock returns to the dialog the user had open"
        assert_alive(app)


async def test_ctrl_l_in_a_confirmation_dialog(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "qiantai")
        await pilot.press("ctrl+q")  # the sign-out question
        await pilot.pause()
        question = app.screen
        assert type(question).__name__ == "ConfirmDialog"
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        await unlock(pilot)
        assert app.screen is question
        await pilot.press("escape")  # stay
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert_alive(app)


def _other_process(svc: Services) -> Services:
    """What ``crm-tui settings set`` holds: its own engine and connections on the same file."""
    from crm_tui.store.db import Store

    return Services(store=Store(svc.store.db_file, key=svc.store.key), clock=svc.clock)


def test_data_changed_sees_a_commit_of_another_connection(ui_services) -> None:  # type: ignore[no-untyped-def]
    assert ui_services.store.data_changed() is False  # the first look only takes the reading
    assert ui_services.store.data_changed() is False
    other = _other_process(ui_services)
    try:
        settings.set_setting(other, staff_actor(other, "admin"), "security.lockout_attempts", "7")
    finally:
        other.close()
    assert ui_services.store.data_changed() is True
    assert ui_services.store.data_changed() is False


async def test_settings_set_elsewhere_apply_to_a_running_app(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.app import SETTINGS_POLL_SECONDS

    assert SETTINGS_POLL_SECONDS <= 5
    app = make(ui_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "qiantai")
        app.settings_tick()  # what the timer does every SETTINGS_POLL_SECONDS: the first reading
        await settle(pilot)
        app.idle_lock_tick()
        assert app.idle_seconds == float(ui_services.setting("security", "idle_lock_minutes")) * 60 != 3 * 60
        other = _other_process(ui_services)
        try:
            admin = staff_actor(other, "admin")
            settings.set_setting(other, admin, "security.idle_lock_minutes", "3")
            settings.set_setting(other, admin, "security.lockout_attempts", "4")
        finally:
            other.close()
        assert ui_services.setting("security", "lockout_attempts") != 4  # the running app's copy is old
        app.settings_tick()
        await settle(pilot)
        assert ui_services.setting("security", "lockout_attempts") == 4
        app.idle_lock_tick()
        assert app.idle_seconds == 3 * 60
        assert_alive(app)


async def test_lockout_attempts_set_elsewhere_lock_an_account_sooner(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    """The setting reaches sign-in itself: three wrong passwords lock the account once another
    process has set the limit to 3 (default 5)."""
    from crm_tui.services import staff

    app = make(ui_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "qiantai")
        app.settings_tick()
        await settle(pilot)
        other = _other_process(ui_services)
        try:
            settings.set_setting(other, staff_actor(other, "admin"), "security.lockout_attempts", "3")
        finally:
            other.close()
        app.settings_tick()
        await settle(pilot)
    for _attempt in range(3):
        with pytest.raises(Exception):
            staff.sign_in(ui_services, "jingli", "wrong")
    from crm_tui.domain.errors import CrmError

    with pytest.raises(CrmError) as refused:
        staff.sign_in(ui_services, "jingli", "demo1234")
    assert "locked" in refused.value.message

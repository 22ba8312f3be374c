"""Issue 21, the front desk: the footer, F1 and the palette offer only what the role may do. For
every demo role, each key of the archive screens shows exactly when the role has its permission;
the front desk's Ctrl+X does nothing (no file name asked for, then refused)."""

from __future__ import annotations

import pytest

from crm_tui.services import customers as cs
from crm_tui import demo
from crm_tui.ui.screens.customers import CustomerDetailScreen, CustomerListScreen, WatchListScreen
from tests.ui.conftest import make, settle, sign_in, staff_actor

SIZE = (120, 36)
USERS = [u for u, _d, _r in demo.DEMO_ACCOUNTS if u != "admin"]


def _shown(screen) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {b.binding.action: key for key, b in screen.active_bindings.items()}


@pytest.mark.parametrize("user", USERS)
async def test_archive_keys_follow_the_role(ui_services, en, user: str) -> None:  # type: ignore[no-untyped-def]
    actor = staff_actor(ui_services, user)
    if not actor.can("customer.view"):
        pytest.skip("no access to archives")
    cid = cs.search(ui_services, actor, "", limit=1).rows[0].id
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, user)
        for screen in (CustomerListScreen(ui_services, actor), CustomerDetailScreen(ui_services, actor, cid),
                       WatchListScreen(ui_services, actor)):
            app.push_screen(screen)
            await settle(pilot)
            shown = _shown(screen)
            for action, perm in screen.ACTION_PERMISSIONS.items():
                assert (action in shown) == actor.can(perm), (user, type(screen).__name__, action, perm)
            offered = {c[2] for c in app.palette_commands()}
            for action, perm in screen.ACTION_PERMISSIONS.items():
                if not actor.can(perm):
                    assert not any(a.startswith(f"screen.{action}") for a in offered), (user, action)
            app.pop_screen()
            await settle(pilot)


async def test_front_desk_ctrl_x_does_not_ask_for_a_file_name(ui_services, en) -> None:  # type: ignore[no-untyped-def]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "qiantai")
        await pilot.press("f2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CustomerListScreen)
        footer = {key for key, b in screen.active_bindings.items() if b.binding.show}
        assert "ctrl+x" not in footer and "ctrl+n" in footer  # may create, may not export
        assert "export" not in _shown(screen).values() and "export" not in _shown(screen)
        await pilot.press("ctrl+x")
        await settle(pilot)
        assert app.screen is screen  # no prompt opened


# -- every area, every role ----------------------------------------------------------------------
#: action -> the permissions (any of them) its service needs, for the area screens that decide
#: their keys in ``check_action`` rather than ACTION_PERMISSIONS.
AREA_KEYS: dict[str, dict[str, tuple[str, ...]]] = {
    "FollowupsScreen": {"new": ("followup.edit",), "visit": ("followup.edit",),
                        "register": ("register.use", "register.supervise"),
                        "review": ("followup.supervise",), "claims": ("followup.supervise",)},
    "RegisterScreen": {"save": ("register.use",), "departed": ("register.use",), "card": ("register.use",),
                       "clear": ("register.use",), "problems": ("register.supervise",),
                       "line": ("register.use", "register.supervise")},
    "GradesScreen": {"new": ("grade.apply",), "review": ("grade.review", "grade.period_manage"),
                     "report": ("report.view",)},
}


def _expected(screen) -> dict[str, tuple[str, ...]]:  # type: ignore[no-untyped-def]
    table = dict(AREA_KEYS.get(type(screen).__name__, {}))
    for action, perm in getattr(screen, "ACTION_PERMISSIONS", {}).items():
        table[action] = (perm,) if isinstance(perm, str) else tuple(perm)
    return table


@pytest.mark.parametrize("user", [u for u, _d, _r in demo.DEMO_ACCOUNTS])
async def test_every_area_offers_only_what_the_role_may_do(ui_services, en, user: str) -> None:  # type: ignore[no-untyped-def]
    """Home's area keys, then each area the role may open: each key and palette entry shows exactly
    when the role holds a permission its service accepts."""
    actor = staff_actor(ui_services, user)
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, user)
        await settle(pilot)
        await pilot.press("f10")
        await settle(pilot)
        shown = _shown(app.screen)
        for area in app.areas:
            if area.key:
                assert (f"open('{area.name}')" in shown) == actor.can(area.permission), (user, area.name)
        checked = 0
        for area in app.areas:
            if area.permission and not actor.can(area.permission):
                continue
            app.action_open(area.name)
            await settle(pilot)
            screen = app.screen
            expected = _expected(screen)
            shown = _shown(screen)
            offered = {c[2] for c in app.palette_commands()}
            for action, perms in expected.items():
                may = any(actor.can(p) for p in perms)
                assert (action in shown) == may, (user, type(screen).__name__, action, perms)
                if not may:
                    assert not any(a.startswith(f"screen.{action}") for a in offered), (user, action)
            checked += bool(expected)
        assert checked or user == "admin"

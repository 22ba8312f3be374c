"""Interrupting background work never ends the app (issue 17, items 1-2).

For every role: every area screen (F2..F11, home F10) and the actions that start background work,
interrupted by sign-out (Ctrl+Q, Enter), lock (Ctrl+L), another area's key or Esc, both before the
worker ran (it waits on a gate the test holds closed) and after. Then a seeded random keyboard walk
over all screens. Each ends with the app running and no worker failed."""

from __future__ import annotations

import random

import pytest

from crm_tui.ui.screens.home import HomeScreen
from crm_tui.ui.screens.login import LockScreen, LoginScreen
from tests.ui.conftest import make, settle, sign_in, type_text
from tests.ui.workers_harness import ROLES, Gate, areas_of, assert_alive, gate, sign_in_again, sign_out, unlock

__all__ = ["gate"]  # the fixture, imported for the tests below

SIZE = (120, 36)
INTERRUPTS = ("sign_out", "lock", "area", "escape")
ACTION_INTERRUPTS = [(how, timing) for timing in ("before", "after") for how in INTERRUPTS]


def _four(i: int) -> list[tuple[str, str]]:
    """Each interrupt once, before and after in turn (swapped from one area to the next, so each
    interrupt meets both timings within a role); the slow run below does all eight per area."""
    return [(how, ("before", "after")[(n + i) % 2]) for n, how in enumerate(INTERRUPTS)]

# Keys that start background work on an area's screen, pressed once the screen has loaded.
ACTIONS: dict[str, list[list[str]]] = {
    "home": [["r"]],
    "customers": [["w"], ["ctrl+w"], ["enter", "enter"]],
    "followups": [["2"], ["ctrl+w"], ["enter"]],  # the front desk's register: a name to match
    "complaints": [["2"], ["enter"], ["ctrl+r"]],
    "grades": [["5"], ["enter"], ["ctrl+r"]],
    "reports": [["m"], ["left_square_bracket"]],
    "staff": [],
    "audit": [["ctrl+n"], ["ctrl+v"]],
    "backup": [["ctrl+v"]],
    "import": [],
}
NO_LOADER_AT_OPEN = {"import"}  # the import screen reads nothing until a file is named


async def _home(pilot, gate: Gate) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("f10")
    await gate.drain(pilot)
    assert isinstance(pilot.app.screen, HomeScreen), type(pilot.app.screen).__name__


async def _interrupt(pilot, gate: Gate, how: str, username: str, other_key: str) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    if how == "sign_out":
        await sign_out(pilot)
        await gate.drain(pilot)
        assert_alive(app, gate)
        assert isinstance(app.screen, LoginScreen)
        await sign_in_again(pilot, username)
    elif how == "lock":
        where = app.screen
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        await gate.drain(pilot)  # the cancelled loaders finish behind the lock: nothing applied
        assert_alive(app, gate)
        assert isinstance(app.screen, LockScreen)
        await unlock(pilot)
        await gate.drain(pilot)  # the loaders the lock cancelled run again
        assert app.screen is where, "the unlock returns to where the user was"
    elif how == "area":
        await pilot.press(other_key)
        await gate.drain(pilot)
    else:
        await pilot.press("escape")
        await gate.drain(pilot)
    assert_alive(app, gate)


@pytest.mark.parametrize("role", list(ROLES))
async def test_interrupt_every_loader(ui_services, en, gate: Gate, role: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Each area: the four interrupts, before or after its loader ran (both timings for each
    interrupt across the areas). Each action: one interrupt, taken in turn. The slow run below
    gives every area and every action all eight."""
    await _interrupt_all(ui_services, gate, role, tmp_path, monkeypatch, full=False)


@pytest.mark.slow
@pytest.mark.parametrize("role", list(ROLES))
async def test_interrupt_every_loader_every_way(ui_services, en, gate: Gate, role: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    await _interrupt_all(ui_services, gate, role, tmp_path, monkeypatch, full=True)


async def _interrupt_all(ui_services, gate: Gate, role: str, tmp_path, monkeypatch, *, full: bool) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HOME", str(tmp_path))  # an export's default folder
    username = ROLES[role]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, username)
        await _home(pilot, gate)
        areas = areas_of(app)
        keys = [k for k, _n in areas]
        actions_started = 0
        for i, (key, name) in enumerate(areas):
            other = keys[(i + 1) % len(keys)] if key != "f10" else keys[1 % len(keys)]
            for how, timing in (ACTION_INTERRUPTS if full else _four(i)):
                # the area's own loader
                if key == "f10":
                    await pilot.press("f2" if "f2" in keys else keys[-1])
                    await gate.drain(pilot)
                if timing == "before":
                    gate.close()
                started = gate.started
                await pilot.press(key)
                await pilot.pause()
                if timing == "after":
                    await gate.drain(pilot)
                elif name not in NO_LOADER_AT_OPEN:
                    assert gate.started > started, f"{key} started no loader for {role}"
                await _interrupt(pilot, gate, how, username, other)
                await _home(pilot, gate)
            # each action of the area, interrupted the same ways
            for n, keys_of_action in enumerate(ACTIONS.get(name, [])):
                for how, timing in (ACTION_INTERRUPTS if full else ACTION_INTERRUPTS[n % 4::4]):
                    if key != "f10":
                        await pilot.press(key)
                    await gate.drain(pilot)
                    if timing == "before":
                        gate.close()
                    started = gate.started
                    for k in keys_of_action:
                        await pilot.press(k)
                    await pilot.pause()
                    actions_started += gate.started > started
                    if timing == "after":
                        await gate.drain(pilot)
                    await _interrupt(pilot, gate, how, username, other)
                    await _home(pilot, gate)
        assert actions_started > 0
        assert_alive(app, gate)


def _walk_keys(app) -> list[str]:  # type: ignore[no-untyped-def]
    """What a person might press anywhere: area keys, moves, the number keys of queues, the
    shortcuts of the screens, lock and sign-out. Not Ctrl+P (the palette can quit) nor Ctrl+C."""
    return (["f10", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f11", "f1"] * 2
            + ["escape"] * 6 + ["enter"] * 6 + ["down"] * 6 + ["up"] * 3 + ["tab"] * 3
            + ["1", "2", "3", "4", "5", "6", "r", "m", "w", "a", "left_square_bracket"]
            + ["ctrl+n", "ctrl+w", "ctrl+r", "ctrl+k", "ctrl+g", "ctrl+e", "ctrl+s", "ctrl+b", "ctrl+v",
               "ctrl+x", "ctrl+t", "ctrl+o", "ctrl+f", "ctrl+u", "ctrl+a"]
            + ["ctrl+l", "ctrl+q"])


async def random_walk(pilot, username: str, steps: int, seed: int) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    rng = random.Random(seed)
    keys = _walk_keys(app)
    for _step in range(steps):
        if isinstance(app.screen, LoginScreen):
            await settle(pilot)
            await sign_in(pilot, username)
            continue
        if isinstance(app.screen, LockScreen):
            await type_text(pilot, "demo1234")
            await pilot.press("enter")
            await settle(pilot)
            continue
        await pilot.press(rng.choice(keys))
        assert_alive(app)
    await settle(pilot)


@pytest.mark.parametrize("role", list(ROLES))
async def test_random_keyboard_walk(ui_services, en, role: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HOME", str(tmp_path))
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, ROLES[role])
        await random_walk(pilot, ROLES[role], steps=150, seed=17)
        assert_alive(app)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("role", list(ROLES))
async def test_random_keyboard_walk_long(ui_services, en, role: str, seed: int, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HOME", str(tmp_path))
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, ROLES[role])
        await random_walk(pilot, ROLES[role], steps=1500, seed=seed)
        assert_alive(app)


# The screens with no key of their own, reached through the command palette (Ctrl+P): the query typed
# there, the screen it opens, the permission it needs, and keys on it that start background work.
PALETTE_SCREENS = {
    "calendar": ("Holiday schedule", "CalendarScreen", "calendar.manage", [["right_square_bracket"]]),
    "incidents": ("Incident register", "IncidentsScreen", "incident.manage", []),
}


def _palette_cases() -> list[tuple[str, str]]:
    from crm_tui.domain.roles import permissions_of

    return [(screen, role) for screen, (_q, _s, permission, _a) in PALETTE_SCREENS.items()
            for role in ROLES if permission in permissions_of([role])]


async def _open_from_palette(pilot, query: str) -> None:  # type: ignore[no-untyped-def]
    """Ctrl+P, the screen's name, Enter: no settle after Enter (a held loader would never settle)."""
    from textual.command import CommandPalette

    await pilot.press("ctrl+p")
    await pilot.pause()
    assert CommandPalette.is_open(pilot.app)
    await type_text(pilot, query)
    await settle(pilot)  # the palette's own search; no screen loader has started yet
    await pilot.press("enter")
    await pilot.pause()
    await pilot.pause()


@pytest.mark.parametrize(("screen", "role"), _palette_cases())
async def test_interrupt_the_palette_screens(ui_services, en, gate: Gate, screen: str, role: str, tmp_path,
                                             monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The holiday schedule (节假日安排) and the incident register (事件登记), opened through the palette:
    sign-out, lock, another area's key and Esc while their loaders run (held at the gate) and after.
    The calendar's only role gets all eight; the incident register's four roles take the interrupts
    before and after in turn, so each interrupt meets both timings."""
    monkeypatch.setenv("HOME", str(tmp_path))
    query, screen_name, _permission, actions = PALETTE_SCREENS[screen]
    username = ROLES[role]
    cases = [c for c in _palette_cases() if c[0] == screen]
    turn = cases.index((screen, role))
    ways = ACTION_INTERRUPTS if len(cases) == 1 else [(how, ("before", "after")[(n + turn) % 2])
                                                      for n, how in enumerate(INTERRUPTS)]
    app = make(ui_services)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, username)
        await _home(pilot, gate)
        keys = [k for k, _n in areas_of(app)]
        other = keys[1] if len(keys) > 1 else "f10"
        for how, timing in ways:
            # the screen's own loader
            if timing == "before":
                gate.close()
            started = gate.started
            await _open_from_palette(pilot, query)
            assert type(app.screen).__name__ == screen_name, type(app.screen).__name__
            if timing == "before":
                assert gate.started > started, f"{screen} started no loader"
            else:
                await gate.drain(pilot)
            await _interrupt(pilot, gate, how, username, other)
            await _home(pilot, gate)
            # the keys on it that start background work
            for keys_of_action in actions:
                await _open_from_palette(pilot, query)
                await gate.drain(pilot)
                if timing == "before":
                    gate.close()
                started = gate.started
                for k in keys_of_action:
                    await pilot.press(k)
                await pilot.pause()
                assert gate.started > started, f"{keys_of_action} started no loader on {screen}"
                if timing == "after":
                    await gate.drain(pilot)
                await _interrupt(pilot, gate, how, username, other)
                await _home(pilot, gate)
        assert_alive(app, gate)

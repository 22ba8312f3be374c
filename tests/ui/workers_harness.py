"""Deterministic hooks for interrupting background work (issue 17): a gate every worker started by
``run_loader`` / ``run_action`` (crm_tui/ui/workers.py) waits on, opened and closed by the test, and
helpers to sign in and out, lock and unlock, and check that the app is alive with no failed worker."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from crm_tui.domain.errors import CrmError
from crm_tui import demo
from crm_tui.ui.workers import Loaders
from tests.ui.conftest import settle, sign_in, type_text

# The demo account of each role (tests/ui/conftest.py's database, crm_tui/demo/__init__.py).
ROLES = {
    "front_desk": "qiantai",
    "customer_manager": "jingli",
    "section_chief": "kezhang",
    "deputy_manager": "fujingli",
    "internal_control": "neiguan",
    "admin": "admin",
}


class Gate:
    """While closed, every worker's function waits before it starts; ``drain`` opens it and waits
    until every worker thread has finished (no sleeps: a condition the threads signal)."""

    def __init__(self) -> None:
        self._open = threading.Event()
        self._open.set()
        self._idle = threading.Condition()
        self.inflight = 0
        self.started = 0
        self.unexpected: list[str] = []  # errors other than CrmError raised by a worker's function

    def close(self) -> None:
        self._open.clear()

    def open(self) -> None:
        self._open.set()

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        if getattr(fn, "_gated", False):
            return fn

        def gated(*args: Any, **kwargs: Any) -> Any:
            with self._idle:
                self.inflight += 1
                self.started += 1
            try:
                if not self._open.wait(timeout=60):
                    raise AssertionError("the gate was never opened")
                return fn(*args, **kwargs)
            except CrmError:
                raise
            except Exception as e:
                self.unexpected.append(repr(e))
                raise
            finally:
                with self._idle:
                    self.inflight -= 1
                    self._idle.notify_all()

        gated._gated = True  # type: ignore[attr-defined]
        return gated

    def wait_idle(self, timeout: float = 60) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self.inflight == 0, timeout=timeout)

    async def drain(self, pilot) -> None:  # type: ignore[no-untyped-def]
        self.open()
        assert await asyncio.to_thread(self.wait_idle), "a worker thread did not finish"
        await settle(pilot)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Gate:
    g = Gate()
    original = Loaders._loader_start

    def start(self, spec):  # type: ignore[no-untyped-def]
        spec.fn = g.wrap(spec.fn)
        return original(self, spec)

    monkeypatch.setattr(Loaders, "_loader_start", start)
    return g


def assert_alive(app, gate: Gate | None = None) -> None:  # type: ignore[no-untyped-def]
    assert app.is_running, "the app closed"
    assert app._exception is None, f"unhandled error: {app._exception!r}"
    assert app.worker_failures == [], f"workers failed: {app.worker_failures}"
    if gate is not None:
        assert gate.unexpected == [], f"unexpected errors in workers: {gate.unexpected}"


def areas_of(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(key, name) of every area with a key of its own that the signed-in actor may open, home (F10)
    first (the holiday schedule and the incident register open from the palette)."""
    actor = app.actor
    assert actor is not None
    return [("f10", "home")] + [(a.key, a.name) for a in app.areas
                                if a.key and (a.permission is None or actor.can(a.permission))]


async def sign_out(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+q")
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()


async def sign_in_again(pilot, username: str) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.login import LoginScreen

    await settle(pilot)
    assert isinstance(pilot.app.screen, LoginScreen), type(pilot.app.screen).__name__
    await sign_in(pilot, username)


async def unlock(pilot) -> None:  # type: ignore[no-untyped-def]
    from crm_tui.ui.screens.login import LockScreen

    assert isinstance(pilot.app.screen, LockScreen)
    await type_text(pilot, demo.DEMO_PASSWORD)
    await pilot.press("enter")
    await settle(pilot)
    assert not isinstance(pilot.app.screen, LockScreen)

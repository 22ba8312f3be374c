"""UI fixtures: a real encrypted database with the demo accounts, a fixed clock, a fake idle timer."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from crm_tui.i18n import get_language, set_language
from crm_tui import demo
from crm_tui.services import system
from crm_tui.services.context import Services

FIXED_NOW = datetime(2026, 11, 23, 10, 30, 0)


class FakeClock:
    def __init__(self, start: datetime = FIXED_NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="session")
def _demo_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """One seeded database per test session; each test gets a byte copy (argon2 hashing is slow)."""
    folder = tmp_path_factory.mktemp("demo-template")
    place = system.Place(folder, system.memory_key_store())
    system.create_empty(place)
    svc = system.open_services(place, clock=FakeClock(), demo=True)
    try:
        demo.seed(svc)
    finally:
        svc.close()
    key = place.key_store.get(place.db_file)
    assert key is not None
    return place.db_file, key


@pytest.fixture
def ui_services(_demo_template: tuple[Path, bytes], tmp_path: Path):  # type: ignore[no-untyped-def]
    import shutil

    from crm_tui.store.keys import MemoryKeyStore

    src, key = _demo_template
    folder = tmp_path / "data"
    folder.mkdir(mode=0o700)
    shutil.copy(src, folder / "crm.db")
    ks = MemoryKeyStore()
    ks.put(folder / "crm.db", key)
    clock = FakeClock()
    svc = system.open_services(system.Place(folder, ks), clock=clock, demo=True)
    yield svc
    svc.close()


@pytest.fixture
def zh() -> None:
    old = get_language()
    set_language("zh_CN")
    yield
    set_language(old)


@pytest.fixture
def en() -> None:
    old = get_language()
    set_language("en")
    yield
    set_language(old)


def staff_actor(svc: Services, username: str):  # type: ignore[no-untyped-def]
    """The Actor a staff account acts as (its id, names and roles), for calling services directly."""
    from crm_tui.services import staff
    from crm_tui.services.context import Actor

    row = staff.get_staff(svc, username)
    return Actor(row.id, row.username, row.display_name, frozenset(row.roles))


def burst(app, keys: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Every key posted at once, before any of them is handled: nothing waits for the screen."""
    from textual import events

    chars = {"enter": "\r", "tab": "\t", "space": " "}
    for key in keys:
        app.post_message(events.Key(key, chars.get(key, key if len(key) == 1 else None)))


def dialog_host():  # type: ignore[no-untyped-def]
    """A bare app with a field under the dialog it opens (``ask``), to see where the keys after
    Enter land; what the dialog dismisses with is kept in ``results``."""
    from textual.app import App, ComposeResult
    from textual.widgets import Input

    class Host(App[None]):
        def __init__(self) -> None:
            super().__init__()
            self.results: list[object] = []

        def compose(self) -> ComposeResult:
            yield Input(id="below")

        def ask(self, dialog) -> None:  # type: ignore[no-untyped-def]
            self.push_screen(dialog, self.results.append)

    return Host()


async def open_dialog(pilot, dialog) -> None:  # type: ignore[no-untyped-def]
    pilot.app.ask(dialog)
    await pilot.pause()
    await pilot.pause()


def make(svc: Services, **kw):  # type: ignore[no-untyped-def]
    from crm_tui.ui.app import make_app

    return make_app(svc, demo=True, **kw)


async def type_text(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    """Type like a person: one key at a time (Chinese characters arrive as single key events too)."""
    for ch in text:
        await pilot.press(ch if ch != " " else "space")


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    """Until no worker runs. A worker cancelled because a newer one of its exclusive group replaced
    it (a queue refetched as keys arrive) is normal, not a failure: wait for the rest."""
    from textual.worker import WorkerCancelled

    await pilot.pause()
    for _ in range(20):
        try:
            await pilot.app.workers.wait_for_complete()
            break
        except WorkerCancelled:
            await pilot.pause()
    # then until every message queue is empty: a loader's result fills a table, the table posts
    # RowHighlighted, the screen fits the columns and mounts the row's detail line; each hop is one
    # more round, and under load a snapshot taken after the first caught the table half fitted
    for _ in range(10):
        await pilot.pause()
        if not _queued(pilot.app):
            break
    await pilot.pause()


def _queued(app) -> bool:  # type: ignore[no-untyped-def]
    nodes = [app, *app.screen_stack, *app.screen.walk_children()]
    return any(node._message_queue.qsize() for node in nodes) or any(
        w.state.name in ("PENDING", "RUNNING") for w in app.workers)


async def sign_in(pilot, username: str, password: str = demo.DEMO_PASSWORD) -> None:  # type: ignore[no-untyped-def]
    """From the login screen, keyboard only: user name, Enter, password, Enter."""
    await type_text(pilot, username)
    await pilot.press("enter")
    await type_text(pilot, password)
    await pilot.press("enter")
    await settle(pilot)


@pytest.fixture(autouse=True)
def _steady_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    """No cursor blink in UI tests: a snapshot must not depend on which half-second it was taken in."""
    from textual.widgets import Input

    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)

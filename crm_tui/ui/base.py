"""What every screen shares: bindings written as English msgids and shown in the UI language, keys
typed ahead, and background work (``run_loader`` / ``run_action``: read ui/workers.py first)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TypeVar

from textual import events
from textual.actions import SkipAction
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Input

from crm_tui.i18n import _
from crm_tui.ui.workers import Loaders

T = TypeVar("T")


def localise_bindings(node: DOMNode) -> None:
    """Translate a node's binding descriptions from the class's English msgids (footer, help, palette)."""
    merged = type(node)._merged_bindings
    if merged is None:
        return
    node._bindings.key_to_bindings = {
        key: [
            replace(b, description=_(b.description) if b.description else b.description,
                    tooltip=_(b.tooltip) if b.tooltip else b.tooltip)
            for b in bindings
        ]
        for key, bindings in merged.key_to_bindings.items()
    }


# Tab and Shift+Tab move focus at once, when the key arrives, not after it has travelled through the
# focused widget: a clerk typing fast (or keys queued while a screen is built) would otherwise see
# the characters after a Tab land in the field they just left.
FOCUS_BINDINGS = [
    Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
    Binding("shift+tab", "app.focus_previous", "Previous field", show=False, priority=True),
]


# Enter in a one-line field likewise acts when the key arrives. Without it the Input posts Submitted
# and the focus moves only when that message is handled: 'qiantai⏎demo1234⏎' typed (or scanned, or
# pasted) at once put part of the password in the user name. A screen that lists ENTER_BINDING
# defines ``async def action_enter`` that awaits ``enter_in`` with what Enter does in each of its
# fields; use ``screen.set_focus`` there (``widget.focus()`` is itself deferred).
ENTER_BINDING = Binding("enter", "enter", "Next field", show=False, priority=True)


async def enter_in(screen: Screen, actions: Mapping[str, Callable[[], object]]) -> None:  # type: ignore[type-arg]
    """Run the action for the focused Input's id; elsewhere (a button, a list) Enter does what the
    widget does.

    Keys are handed to a widget through its own queue, so characters typed just before Enter may not
    be in the field yet. The action waits for the field to take them; meanwhile the app holds the
    keys typed after Enter, which then reach the field (or the screen) the action moved to. An action
    may be a coroutine (a search box waiting for the results of what it holds): it is awaited, and the
    keys after Enter wait for it too.
    """
    focused = screen.focused
    action = actions.get(focused.id or "") if isinstance(focused, Input) else None
    if action is None:
        raise SkipAction()
    caught_up = asyncio.Event()
    if focused.call_later(caught_up.set):  # behind the keys already queued for the field
        try:
            await asyncio.wait_for(caught_up.wait(), timeout=2)
        except asyncio.TimeoutError:  # the field was closed meanwhile: act on what it holds
            pass
    result = action()
    if inspect.isawaitable(result):
        await result


async def until(condition: Callable[[], bool], timeout: float = 5) -> None:
    """Wait until ``condition()`` holds, at most ``timeout`` seconds, letting workers and other
    widgets run meanwhile. Enter in a search box uses it to act on the results of what the box
    holds, not on those of what it held a keystroke ago (the search runs in a worker)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition() and loop.time() < end:
        await asyncio.sleep(0.01)


class _TypeAhead:
    """Keys typed while a screen is being built are kept and delivered once it is ready.

    A clerk presses Ctrl+N and types the name at once; until the new screen has composed and set
    its focus, those keys would go nowhere (or to the wrong field). The app puts them in
    ``type_ahead`` (see ``CrmApp.on_event``) while it is a list; when the screen resumes they are
    dispatched in order, then ``type_ahead`` becomes None and keys flow normally.
    """

    type_ahead: list[events.Key] | None

    def _init_type_ahead(self) -> None:
        self.type_ahead = []

    def on_screen_resume(self) -> None:
        if self.type_ahead is not None:
            # after the first refresh, and behind the focus() calls of on_mount (focus is itself
            # queued on the app), so the keys reach the widget the screen chose
            self.call_after_refresh(self.app.call_later, self._deliver_type_ahead)  # type: ignore[attr-defined]

    async def _deliver_type_ahead(self) -> None:
        # Keys arriving meanwhile keep joining the end of ``type_ahead``, so order is kept.
        app = self.app  # type: ignore[attr-defined]
        while True:
            pending = self.type_ahead
            if not pending:
                self.type_ahead = None
                return
            if app.screen is not self:  # an earlier key opened or closed a screen: the rest follow it
                self.type_ahead = None
                target = getattr(app.screen, "type_ahead", None)
                if target is not None:
                    target[:0] = pending
                else:
                    for event in pending:
                        app.post_message(events.Key(event.key, event.character))
                return
            event = pending.pop(0)
            key = events.Key(event.key, event.character)
            key.crm_replayed = True  # type: ignore[attr-defined]
            await app.on_event(key)


class BaseScreen(Loaders, _TypeAhead, Screen[T]):
    """A full screen. ``TITLE_MSGID`` names it in the header, the help screen and the palette."""

    TITLE_MSGID = ""
    BINDINGS = FOCUS_BINDINGS

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        localise_bindings(self)
        self._init_type_ahead()
        self._init_loaders()

    def on_mount(self) -> None:
        if self.TITLE_MSGID:
            self.title = _(self.TITLE_MSGID)


class BaseModal(Loaders, _TypeAhead, ModalScreen[T]):
    TITLE_MSGID = ""
    BINDINGS = FOCUS_BINDINGS

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        localise_bindings(self)
        self._init_type_ahead()
        self._init_loaders()

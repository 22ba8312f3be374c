"""What every screen shares: bindings written as English msgids and shown in the UI language, keys
typed ahead, and background work (``run_loader`` / ``run_action``: read ui/workers.py first)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TypeVar

from textual import events, on
from textual.actions import SkipAction
from textual.app import App
from textual.binding import ActiveBinding, Binding
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import DataTable, Input, Select

from crm_tui.i18n import N_, _
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


# Textual's own widgets describe their keys in English ("Dismiss menu", "Move cursor left"). Those a
# clerk uses are translated here; the rest (selection by word, scroll right ...) are hidden from the
# footer and F1, where they meant nothing to a clerk and showed English in a Chinese interface.
# ("Up"/"Down" stay hidden: those msgids mean a grade going up or down.)
WIDGET_KEYS = frozenset((
    N_("Dismiss menu"), N_("Show menu"), N_("Select"), N_("Toggle"), N_("Toggle option"),
    N_("Cursor up"), N_("Cursor down"), N_("First"), N_("Last"),
    N_("Page up"), N_("Page down"), N_("Page Up"), N_("Page Down"), N_("Top"), N_("Bottom"),
    N_("Delete character left"), N_("Delete character right"), N_("Delete all to the left"),
    N_("Go to start"), N_("Go to end"), N_("Copy selected text"), N_("Cut selected text"),
    N_("Paste text from the clipboard"), N_("Copy"), N_("Cut"), N_("Paste"), N_("Undo"), N_("Redo"),
    N_("Next tab"), N_("Previous tab"), N_("Press button"),
))


class _ClerkKeys:
    """The keys the footer and F1 list: the screen's and the app's (already in the UI language, and
    hidden by ``check_action`` when the role lacks the permission), and of the focused widget only
    those in :data:`WIDGET_KEYS`, translated."""

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        out: dict[str, ActiveBinding] = {}
        for key, active in super().active_bindings.items():  # type: ignore[misc]
            if key.startswith("super+"):  # the macOS command key: not on the branch's keyboards
                continue
            node = active.node
            if isinstance(node, (Screen, App)):
                out[key] = active
            elif active.binding.description in WIDGET_KEYS:
                out[key] = active._replace(binding=replace(active.binding, description=_(active.binding.description)))
        if getattr(self, "is_modal", False):
            # Textual lists no app key over a dialog, though the app's priority keys (F1, the areas,
            # Ctrl+L) work there: listed, so the footer and F1 show them on a dialog too.
            app = self.app  # type: ignore[attr-defined]
            for key, binding in app._bindings:
                if binding.priority and key not in out and not key.startswith("super+"):
                    state = app._check_action_state(binding.action, app)
                    if state is not False:
                        out[key] = ActiveBinding(app, binding, bool(state), binding.tooltip)
        return out


class _ClerkLayout:
    """Every screen and dialog ends with the footer of ui/widgets/footer.py: F1 and the area keys
    always in view, then the screen's own keys as room allows (the ``Footer`` a screen yields is
    replaced; a dialog without one gets one). Its tables fit their width (ui/widgets/columns.py,
    ``fit_table``) when their rows arrive and when the terminal is resized, and show what a row
    holds beyond the screen's edge in the line under them."""

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        from crm_tui.ui.widgets.columns import fit_and_detail

        fit_and_detail(event.data_table)

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._refit_tables)  # type: ignore[attr-defined]

    def _refit_tables(self) -> None:
        from crm_tui.ui.widgets.columns import fit_and_detail

        # walk_children, not query(): the same tables in the same order without matching a CSS selector
        # against every widget of the screen (this runs twice after every page that arrives)
        for table in self.walk_children(DataTable):  # type: ignore[attr-defined]
            fit_and_detail(table)

    def _extend_compose(self, widgets: list[Widget]) -> None:
        from crm_tui.ui.widgets.footer import with_clerk_footer

        super()._extend_compose(widgets)  # type: ignore[misc]
        with_clerk_footer(widgets)


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


def _select_moves_on(screen: Screen, event: Select.Changed) -> None:  # type: ignore[type-arg]
    """A choice made with Enter on a form's drop-down moves on to the next field, as Enter does in
    a one-line field. Drop-downs that filter a list (not on a form row or dialog) stay put."""
    select = event.select
    if screen.focused is not select or event.value is Select.NULL:
        return
    if any(a.has_class(c) for a in select.ancestors for c in ("field-row", "reg-row", "dialog")):
        screen.focus_next()


def may(node: DOMNode, action: str) -> bool | None:
    """``check_action`` for a screen's ``ACTION_PERMISSIONS`` (action -> the permission, or any of
    several, its service needs): an action the signed-in role may not use is hidden from the footer,
    F1 and the palette, and its key does nothing (no file name asked for, then refused)."""
    needs = getattr(node, "ACTION_PERMISSIONS", {}).get(action)
    actor = getattr(node, "actor", None)
    if needs is None or actor is None:
        return True
    return any(actor.can(p) for p in ((needs,) if isinstance(needs, str) else needs))


class BaseScreen(Loaders, _ClerkKeys, _ClerkLayout, _TypeAhead, Screen[T]):
    """A full screen. ``TITLE_MSGID`` names it in the header, the help screen and the palette.
    ``ACTION_PERMISSIONS`` (action -> permission) hides what the role may not do (:func:`may`)."""

    TITLE_MSGID = ""
    BINDINGS = FOCUS_BINDINGS
    ACTION_PERMISSIONS: Mapping[str, str | tuple[str, ...]] = {}

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return may(self, action)

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        localise_bindings(self)
        self._init_type_ahead()
        self._init_loaders()

    def on_mount(self) -> None:
        if self.TITLE_MSGID:
            self.title = _(self.TITLE_MSGID)

    @on(Select.Changed)
    def _chosen_moves_on(self, event: Select.Changed) -> None:
        _select_moves_on(self, event)


class BaseModal(Loaders, _ClerkKeys, _ClerkLayout, _TypeAhead, ModalScreen[T]):
    TITLE_MSGID = ""
    BINDINGS = FOCUS_BINDINGS

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        localise_bindings(self)
        self._init_type_ahead()
        self._init_loaders()

    @on(Select.Changed)
    def _chosen_moves_on(self, event: Select.Changed) -> None:
        _select_moves_on(self, event)


# -- field errors: one mechanism for every form ----------------------------------------------------
# A refusal names each field and its reason: the reason under the field (the Static whose id is the
# field widget's id + "-error", in any of the forms' error styles), the field itself marked, the
# form's message line listing "field: reason" for all of them (so a form without room under its
# fields, the register, still says which), and focus on the first refused field in Tab order.

ERROR_BOXES = ".field-error, .g-error, .cmp-error"


def _plain(widget: object) -> str:
    for attr in ("content", "renderable"):
        value = getattr(widget, attr, None)
        if value is not None and not callable(value):
            text = getattr(value, "plain", None)
            return str(text if text is not None else value)
    return ""


def field_label(widget: DOMNode) -> str:
    """What the user reads as the field's name: the label on its row, the label just above it, or
    the text shown in it while empty (the register's one-line fields)."""
    from textual.widgets import Label

    parent = widget.parent
    text = ""
    if parent is not None and parent.has_class("field-row"):
        labels = list(parent.query_children(Label))
        text = _plain(labels[0]) if labels else ""
    elif parent is not None:
        before = None  # the nearest Label above, with no other field between
        for child in parent.children:
            if child is widget:
                break
            if isinstance(child, Label):
                before = child
            elif not any(child.has_class(c) for c in ("field-error", "g-error", "cmp-error")):
                before = None
        text = _plain(before) if before is not None else ""
    if not text:
        text = str(getattr(widget, "placeholder", "") or getattr(widget, "prompt", "") or "")
    return text.rstrip(" *").strip()


def clear_field_errors(screen: Screen) -> None:  # type: ignore[type-arg]
    for box in screen.query(ERROR_BOXES):
        box.update("")  # type: ignore[attr-defined]
        box.display = False
        box.remove_class("-shown")
    for widget in screen.query(".-invalid"):
        widget.remove_class("-invalid")


def show_field_errors(screen: Screen, errors: Mapping[str, str], *,  # type: ignore[type-arg]
                      widget_id: Callable[[str], str], message: str | None = "#form-message",
                      labels: Mapping[str, str] | None = None,
                      error_id: Callable[[str], str] | None = None) -> None:
    """Show a refusal (``errors``: field -> reason, as ``ValidationErrors.by_field()``) on a form.

    ``widget_id`` maps a service's field name to the form's widget id; ``error_id`` to the id of
    the Static under it (default: the widget's id + "-error"); ``labels`` names a field that has
    no widget (or overrides the label found on the form)."""
    from rich.text import Text
    from textual.css.query import NoMatches
    from textual.widget import Widget
    from textual.widgets import Static

    clear_field_errors(screen)
    named: list[str] = []
    marked: list[Widget] = []
    for field, reason in errors.items():
        wid = widget_id(field)
        try:
            widget: Widget | None = screen.query_one("#" + wid)
        except NoMatches:
            widget = None
        label = (labels or {}).get(field) or (field_label(widget) if widget is not None else "") or field
        named.append(_("{field}: {reason}", field=label, reason=reason))
        try:
            box = screen.query_one("#" + (error_id(field) if error_id else wid + "-error"), Static)
        except NoMatches:
            box = None
        if box is not None:
            box.update(Text(reason))
            box.display = True
            box.add_class("-shown")
        if widget is not None:
            widget.add_class("-invalid")
            marked.append(widget)
    if message:
        try:
            line = screen.query_one(message, Static)
        except NoMatches:
            line = None
        if line is not None:
            line.update(Text(_("Nothing was saved. {fields}", fields=_("; ").join(named))))
            line.add_class("error")
    chain = screen.focus_chain
    focusable = [w for w in marked if w in chain]
    if focusable:
        first = min(focusable, key=chain.index)
        screen.set_focus(first)
        first.scroll_visible()

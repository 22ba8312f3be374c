"""The footer of every screen and dialog: F1 and the area keys first, then the screen's own keys.

Textual's Footer lists the focused widget's keys, then the screen's, then the app's, each with its
padding, and scrolls the rest out of sight: at 80 columns a clerk saw '^q 退' and no F1 nor F2..F12
(issue 21). ``ClerkFooter`` lays the keys out for the width it has, in this order:

1. F1 (help), always;
2. the area keys the role has (F2..F12, F10 home), with their names; when those do not fit, with a
   short name (客户, 等级 ...), and at worst the key alone;
3. the screen's own keys in the order the screen declares them (its most important first), then the
   app's other keys (lock, sign out), as many as fit. F1 lists every key.

``BaseScreen`` and ``BaseModal`` (ui/base.py) put it in place of the ``Footer`` a screen yields, and
give a dialog without one a footer, so no screen has to know about it.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from crm_tui.i18n import N_, _, get_language

AREA_KEYS = ("f10", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f11", "f12")

# Short names of the areas, for a role with many of them at 80 columns (action -> msgid).
SHORT = {
    "home": N_("Home"),
    "open('customers')": N_("Cust."),
    "open('followups')": N_("Follow"),
    "open('complaints')": N_("Compl."),
    "open('grades')": N_("Grades"),
    "open('reports')": N_("Rep."),
    "open('staff')": N_("Staff"),
    "open('audit')": N_("Audit"),
    "open('backup')": N_("Backup"),
    "open('import')": N_("Import"),
    "open('approvals')": N_("Appr."),
}

Item = tuple[Binding, bool, str]  # binding, enabled, tooltip


def _width(key_display: str, description: str) -> int:
    """Cells a compact FooterKey takes, its right margin included."""
    return cell_len(key_display) + (1 + cell_len(description) if description else 0) + 1


def plan(width: int, first: list[tuple[str, str, str]], areas: list[tuple[str, str, str]],
         rest: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[int]]:
    """What the footer shows in ``width`` cells. ``first`` and ``areas`` are (key, full name, short
    name), always shown; ``rest`` (key, name) in order, as many as fit. Returns the shown (key,
    name) of first+areas, and the indexes of ``rest`` shown."""
    # Full names when they leave room for the screen's first two keys; else short names; at worst
    # the keys alone (F1 keeps its name).
    wanted = sum(_width(k, d) for k, d in rest[:2])
    fixed: list[tuple[str, str]] = []
    for level, reserve in ((1, wanted), (2, 0), (0, 0)):
        fixed = [(k, full) for k, full, _s in first] + [
            (k, (full, short, "")[level - 1] if level else "") for k, full, short in areas]
        if sum(_width(k, d) for k, d in fixed) + reserve <= width or level == 0:
            break
    room = width - sum(_width(k, d) for k, d in fixed)
    shown = []
    for i, (k, d) in enumerate(rest):
        w = _width(k, d)
        if w <= room:
            shown.append(i)
            room -= w
    return fixed, shown


class ClerkFooter(Footer):
    """Textual's Footer, compact, with the keys laid out as the module docstring says."""

    DEFAULT_CSS = """
    ClerkFooter FooterKey.-area .footer-key--key {
        text-style: bold;
    }
    """

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs["compact"] = True
        kwargs["show_command_palette"] = False
        super().__init__(*args, **kwargs)
        self._laid_for = 0
        self._composed: tuple[object, ...] | None = None  # what the keys shown were laid out from

    def _room(self) -> int:
        return self.size.width or self.app.size.width

    def bindings_changed(self, screen) -> None:  # type: ignore[no-untyped-def]
        """Textual lays the footer out again at every change of focus or of the screen stack, on
        every screen: a screen under another one waits until it shows (its resume refreshes the
        bindings again). Each layout mounts a widget a key (about 2 ms each): F2 from the due list
        laid out fifteen footers before the list's rows were painted (issue 22)."""
        if self.is_attached and screen is self.screen and self.app.screen is not screen and self._bindings_ready:
            return
        super().bindings_changed(screen)

    def _layout_key(self) -> tuple[object, ...]:
        """Everything the keys shown depend on."""
        return (self._room(), self.compact, get_language(), tuple(
            (a.binding.key, a.binding.action, a.binding.description, a.binding.show, a.enabled, a.tooltip,
             isinstance(a.node, App)) for a in self.screen.active_bindings.values()))

    async def recompose(self) -> None:
        """Lay the keys out again, unless they would come out the same as shown now."""
        if self._bindings_ready and self.is_attached and self._composed is not None \
                and self._layout_key() == self._composed:
            return
        await super().recompose()

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        self._composed = self._layout_key()
        self._laid_for = self._room()
        first: list[Item] = []
        areas: list[Item] = []
        own: list[Item] = []
        app_rest: list[Item] = []
        seen: set[str] = set()
        for active in self.screen.active_bindings.values():
            binding = active.binding
            if not binding.show or (binding.action in seen and binding.key != "f1"):
                continue
            seen.add(binding.action)
            item = (binding, active.enabled, active.tooltip)
            if isinstance(active.node, App):
                if binding.key == "f1":
                    first.append(item)
                elif binding.key in AREA_KEYS:
                    areas.append(item)
                else:
                    app_rest.append(item)
            elif binding.key == "f1":  # a dialog's own F1 (help closes with F1)
                first.append(item)
            else:
                own.append(item)
        areas.sort(key=lambda it: AREA_KEYS.index(it[0].key))
        rest = own + app_rest
        display = self.app.get_key_display
        fixed, shown = plan(
            self._laid_for,
            [(display(b), b.description, b.description) for b, _e, _t in first],
            [(display(b), b.description, _(SHORT.get(b.action, b.description))) for b, _e, _t in areas],
            [(display(b), b.description) for b, _e, _t in rest])
        for (binding, enabled, tooltip), (key, description) in zip(first + areas, fixed):
            yield FooterKey(binding.key, key, description, binding.action, disabled=not enabled,
                            tooltip=tooltip or binding.description,
                            classes="-area").data_bind(compact=Footer.compact)
        for i in shown:
            binding, enabled, tooltip = rest[i]
            yield FooterKey(binding.key, display(binding), binding.description, binding.action,
                            disabled=not enabled, tooltip=tooltip).data_bind(compact=Footer.compact)

    def on_resize(self, event: events.Resize) -> None:
        if self._bindings_ready and self.is_attached and self._room() != self._laid_for:
            self.call_after_refresh(self.recompose)


def with_clerk_footer(widgets: list[Widget]) -> None:
    """Put a ClerkFooter in place of a plain Footer among a screen's composed widgets, or add one."""
    for i, widget in enumerate(widgets):
        if isinstance(widget, ClerkFooter):
            return
        if type(widget) is Footer:
            widgets[i] = ClerkFooter(id=widget.id)
            return
    widgets.append(ClerkFooter())

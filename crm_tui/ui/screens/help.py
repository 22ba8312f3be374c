"""F1: the keys of the screen beneath, and the keys that work everywhere."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Label, Static

from crm_tui.i18n import _
from crm_tui.ui.base import BaseModal


class HelpScreen(BaseModal[None]):
    BINDINGS = [Binding("escape,f1,q", "close", "Close")]

    def __init__(self, beneath: Screen) -> None:
        super().__init__()
        self.beneath = beneath

    def compose(self) -> ComposeResult:
        from rich.cells import cell_len

        rows: list[tuple[str, str]] = []
        seen = set()
        for active in self.beneath.active_bindings.values():
            b = active.binding
            if not b.description or (b.key, b.description) in seen:
                continue
            seen.add((b.key, b.description))
            rows.append((self.app.get_key_display(b), b.description))
        width = max((cell_len(k) for k, _d in rows), default=8) + 2
        lines = [k + " " * (width - cell_len(k)) + d for k, d in rows]
        general = [
            _("Tab / Shift+Tab   next / previous field"),
            _("Enter             confirm, or move to the next field"),
            _("Esc               back (asks before discarding changes)"),
            _("Ctrl+P            command palette: every screen and action"),
            _("Ctrl+L            lock the screen now"),
        ]
        title = getattr(self.beneath, "title", None) or ""
        with Vertical(classes="box dialog", id="help-box"):
            yield Label(_("Keys: {screen}", screen=title), classes="box-title")
            with VerticalScroll():
                yield Static("\n".join(lines) or _("(no keys of its own)"), id="help-keys")
                yield Label(_("Everywhere"), classes="section")
                yield Static("\n".join(general), id="help-general")

    def action_close(self) -> None:
        self.dismiss(None)

"""What every screen shares: bindings written as English msgids and shown in the UI language."""

from __future__ import annotations

from dataclasses import replace
from typing import TypeVar

from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen

from crm_tui.i18n import _

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


class BaseScreen(Screen[T]):
    """A full screen. ``TITLE_MSGID`` names it in the header, the help screen and the palette."""

    TITLE_MSGID = ""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        localise_bindings(self)

    def on_mount(self) -> None:
        if self.TITLE_MSGID:
            self.title = _(self.TITLE_MSGID)


class BaseModal(ModalScreen[T]):
    TITLE_MSGID = ""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        localise_bindings(self)

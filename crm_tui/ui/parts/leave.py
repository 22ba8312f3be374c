"""Esc on a form: leave at once when nothing was typed, else ask before what was typed is lost."""

from __future__ import annotations

from collections.abc import Callable

from textual.screen import Screen

from crm_tui.i18n import _


def leave_form(screen: Screen, dirty: bool, leave: Callable[[], object],  # type: ignore[type-arg]
               question: str | None = None) -> None:
    """``leave()`` now when the form is not ``dirty``; else after the clerk confirms ``question``
    (default: discard the changes on this form?)."""
    from crm_tui.ui.widgets.dialogs import ConfirmDialog

    if not dirty:
        leave()
        return

    def done(yes: bool | None) -> None:
        if yes:
            leave()

    screen.app.push_screen(ConfirmDialog(question or _("Discard the changes on this form?"), yes=_("Discard"),
                                         no=_("Keep editing")), done)

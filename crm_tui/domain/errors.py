"""Errors that carry a translatable message, so every layer can show them in the UI language."""

from __future__ import annotations

from crm_tui.i18n import N_, _


class CrmError(Exception):
    """Base for every error meant for a user: ``msgid`` is an English catalog key, ``params`` fill it.

    ``str(err)`` translates at the time it is shown, so a language switch is honoured.
    """

    exit_code = 1

    def __init__(self, msgid: str, /, **params: object) -> None:
        super().__init__(msgid)
        self.msgid = msgid
        self.params = params

    @property
    def message(self) -> str:
        return _(self.msgid, **self.params)

    def __str__(self) -> str:
        return self.message

    def explain(self) -> str:
        """What to show a user: the message, or for several field errors each of them."""
        return self.message


class ValidationError(CrmError):
    """Bad input for one field. ``field`` names the form field the message belongs next to."""

    def __init__(self, field: str, msgid: str, /, **params: object) -> None:
        super().__init__(msgid, **params)
        self.field = field


class ValidationErrors(CrmError):
    """Several field errors found at once; nothing was saved."""

    def __init__(self, errors: list[ValidationError]) -> None:
        super().__init__(N_("{count} field(s) need correcting; nothing was saved."), count=len(errors))
        self.errors = errors

    def by_field(self) -> dict[str, str]:
        return {e.field: e.message for e in self.errors}

    def explain(self) -> str:
        return "\n".join(e.message for e in self.errors)


class PermissionDenied(CrmError):
    exit_code = 3


class NotFound(CrmError):
    exit_code = 4


class Conflict(CrmError):
    """The action clashes with the current state (illegal transition, duplicate, stale edit)."""

    exit_code = 5


class DatabaseBusy(CrmError):
    """Another process (an import, a backup, another desk's command) holds the database's write
    lock longer than we wait. Nothing was written; the same action can be tried again. The CLI
    exits 75 (EX_TEMPFAIL: try again later); screens keep the form and show the message."""

    exit_code = 75


class PasswordChangeRequired(PermissionDenied):
    """The session signed in with a one-time or expired password: only changing it, or signing
    out, is allowed until then (R-SEC-1)."""

    def __init__(self, username: str) -> None:
        super().__init__(N_("Change your password first: {user} signed in with a one-time or expired password, "
                            "and nothing else is allowed until it is changed (command line: crm-tui --user {user} "
                            "user passwd)."), user=username)

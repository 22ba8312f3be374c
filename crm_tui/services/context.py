"""What every use case stands on: who is acting, the clock, settings, and one transaction that
carries the change and its audit entry together.

Services check permissions themselves (R-SEC-2): a refused call raises PermissionDenied with a
clear message and leaves an audit entry of the refusal.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crm_tui.clock import Clock, system_now
from crm_tui.domain import config
from crm_tui.domain.errors import PasswordChangeRequired, PermissionDenied
from crm_tui.domain.roles import permissions_of
from crm_tui.i18n import N_
from crm_tui.store import audit as audit_store
from crm_tui.store.audit import PersonalChange
from crm_tui.store.db import Store
from crm_tui.store.queries import system as system_queries

SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """A signed-in staff member, or the system itself (``staff_id`` None) for set-up steps."""

    staff_id: int | None
    username: str
    display_name: str
    roles: frozenset[str] = frozenset()
    on_behalf_of: int | None = None  # A/B post: the absent colleague whose work this is
    on_behalf_of_name: str | None = None
    #: Signed in with a one-time or expired password (R-SEC-1): the session may change the
    #: password or sign out, nothing else. ``Services.require``/``read``/``write`` refuse it.
    must_change_password: bool = False

    @property
    def permissions(self) -> frozenset[str]:
        if self.must_change_password:
            return frozenset()
        return permissions_of(self.roles)

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @classmethod
    def system(cls) -> Actor:
        return cls(None, SYSTEM, SYSTEM)


PERMISSION_LABELS = {
    "staff.manage": N_("manage staff accounts"),
    "audit.view": N_("view the audit trail"),
    "key.export": N_("export the recovery code"),
    "settings.edit": N_("change settings"),
    "staff.ab_post": N_("arrange A/B post cover"),
    "backup.run": N_("make backups"),
    "backup.restore": N_("restore backups"),
    "import.run": N_("import data"),
    "calendar.manage": N_("manage the holiday schedule"),
}


@dataclass
class Tx:
    """One write transaction: the session and the audit helper bound to the acting person."""

    session: Session
    actor: Actor
    now: datetime
    audited: list[int] = field(default_factory=list)

    def execute(self, sql: str, params: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
        """A statement in this transaction: for code not yet moved to store/queries (issue 18)."""
        return system_queries.execute(self.session, sql, params)

    def audit(
        self,
        action: str,
        *,
        entity: str | None = None,
        entity_id: str | int | None = None,
        customer_id: int | None = None,
        details: dict[str, Any] | None = None,
        personal: Iterable[PersonalChange] = (),
    ) -> int:
        audit_id = audit_store.append(
            self.session,
            at=self.now,
            actor_id=self.actor.staff_id,
            actor_name=self.actor.username,
            on_behalf_of_id=self.actor.on_behalf_of,
            action=action,
            entity=entity,
            entity_id=entity_id,
            customer_id=customer_id,
            details=details,
            personal=personal,
        )
        self.audited.append(audit_id)
        return audit_id


@dataclass
class Services:
    """The services' handle on the open database; UI and CLI hold one and pass it to use cases."""

    store: Store
    clock: Clock = system_now
    demo: bool = False
    _settings: dict[str, Any] | None = None

    def now(self) -> datetime:
        return self.clock()

    # -- settings --------------------------------------------------------------------------------
    def setting(self, section: str, name: str) -> Any:
        if self._settings is None:
            self.reload_settings()
        assert self._settings is not None
        return self._settings[f"{section}.{name}"]

    def reload_settings(self) -> None:
        flat: dict[str, Any] = {}
        for section, values in config.load("settings.toml").items():
            for name, value in values.items():
                flat[f"{section}.{name}"] = value
        with self.store.read() as s:
            for key, value in system_queries.settings(s):
                flat[key] = json.loads(value)
        self._settings = flat

    # -- transactions ----------------------------------------------------------------------------
    def _refuse(self, actor: Actor, details: dict[str, Any]) -> None:
        with self.store.write() as s:
            audit_store.append(
                s,
                at=self.now(),
                actor_id=actor.staff_id,
                actor_name=actor.username,
                on_behalf_of_id=actor.on_behalf_of,
                action="permission.denied",
                details=details,
            )

    def check_password_current(self, actor: Actor, **context: Any) -> None:
        """Refuse (audited) a session that must change its password first (R-SEC-1). Every
        ``require``, ``read`` and ``write`` with an actor passes here, so no use case escapes it."""
        if actor.must_change_password:
            self._refuse(actor, {"reason": "password_change_required", **{k: str(v) for k, v in context.items()}})
            raise PasswordChangeRequired(actor.username)

    def require(self, actor: Actor, permission: str, **context: Any) -> None:
        self.check_password_current(actor, permission=permission, **context)
        if actor.can(permission):
            return
        self._refuse(actor, {"permission": permission, **{k: str(v) for k, v in context.items()}})
        from crm_tui.i18n import _

        raise PermissionDenied(
            "You are not allowed to {what} ({permission}). Ask an administrator if your duties need it.",
            what=_(PERMISSION_LABELS[permission]) if permission in PERMISSION_LABELS else permission,
            permission=permission,
        )

    @contextmanager
    def write(self, actor: Actor, permission: str | None = None, *, password_change: bool = False,
              **context: Any) -> Iterator[Tx]:
        """One transaction for ``actor``. ``password_change=True`` only for what a session with a
        one-time or expired password may still do: change it, sign out, lock (services/staff.py)."""
        if permission:
            self.require(actor, permission, **context)
        elif not password_change:
            self.check_password_current(actor, **context)
        with self.store.write() as s:
            yield Tx(session=s, actor=actor, now=self.now())

    @contextmanager
    def read(self, actor: Actor, permission: str | None = None, **context: Any) -> Iterator[Session]:
        if permission:
            self.require(actor, permission, **context)
        else:
            self.check_password_current(actor, **context)
        with self.store.read() as s:
            yield s

    def close(self) -> None:
        self.store.close()

"""Settings an administrator may change (idle lock, lockout, password age, language): audited."""

from __future__ import annotations

import json
from typing import Any

from crm_tui.domain import config
from crm_tui.domain.errors import ValidationError
from crm_tui.services.context import Actor, Services
from crm_tui.store.queries import system as system_queries

_LIMITS = {
    "security.lockout_attempts": (3, 20),
    "security.lockout_minutes": (1, 1440),
    "security.password_max_age_days": (0, 3650),
    "security.password_min_length": (8, 64),
    "security.idle_lock_minutes": (1, 240),
    "backup.keep_daily": (1, 366),
    "backup.keep_monthly": (0, 120),
    "approval.valid_hours": (1, 720),
}
_CHOICES = {"ui.language": ("zh_CN", "en")}


def defaults() -> dict[str, Any]:
    return {f"{s}.{k}": v for s, values in config.load("settings.toml").items() for k, v in values.items()}


def current(svc: Services) -> dict[str, Any]:
    svc.reload_settings()
    return {k: svc.setting(*k.split(".", 1)) for k in defaults()}


def set_setting(svc: Services, actor: Actor, key: str, raw: str) -> Any:
    svc.check_password_current(actor)
    known = defaults()
    if key not in known:
        raise ValidationError("key", "Unknown setting '{key}'. Settings: {choices}", key=key,
                              choices=", ".join(sorted(known)))
    if key == "approval.required":  # a comma-separated list of operations (R-SEC-2)
        from crm_tui.services.approvals import OPERATIONS

        value = sorted({p.strip() for p in raw.split(",") if p.strip()})
        bad = [p for p in value if p not in OPERATIONS]
        if bad:
            raise ValidationError("value", "Unknown operation '{op}'; choose one of: {options}", op=bad[0],
                                  options=", ".join(OPERATIONS))
    elif key in _CHOICES:
        if raw not in _CHOICES[key]:
            raise ValidationError("value", "Choose one of: {options}", options=", ".join(_CHOICES[key]))
        value: Any = raw
    else:
        lo, hi = _LIMITS[key]
        try:
            value = int(raw)
        except ValueError:
            raise ValidationError("value", "Give a whole number from {lo} to {hi}.", lo=lo, hi=hi) from None
        if not lo <= value <= hi:
            raise ValidationError("value", "Give a whole number from {lo} to {hi}.", lo=lo, hi=hi)
    old = svc.setting(*key.split(".", 1))
    with svc.write(actor, "settings.edit", setting=key) as tx:
        system_queries.put_setting(tx.session, key, json.dumps(value), tx.now, actor.staff_id)
        tx.audit("settings.change", entity="setting", entity_id=key, details={"old": old, "new": value})
    svc.reload_settings()
    return value


def refresh_if_changed(svc: Services) -> bool:
    """Reload the settings when the database changed since the last look (a ``crm-tui settings set``
    in another process, or any other commit): a running app calls this every few seconds, so a new
    lockout limit or idle-lock time applies without a restart. True when it reloaded."""
    if not svc.store.data_changed():
        return False
    svc.reload_settings()
    return True

"""Reading and verifying the audit trail (internal control, administrators)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from crm_tui.domain import masking
from crm_tui.domain.errors import ValidationError
from crm_tui.services.context import Actor, Services
from crm_tui.store import audit as audit_store


@dataclass(frozen=True)
class AuditFilter:
    username: str | None = None
    customer_id: int | None = None
    action: str | None = None
    since: str | date | None = None
    until: str | date | None = None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    on_behalf_of_id: int | None
    action: str
    entity: str | None
    entity_id: str | None
    customer_id: int | None
    details: dict

    @property
    def summary(self) -> str:
        d = {k: v for k, v in self.details.items() if k != "personal"}
        parts = [f"{self.entity}#{self.entity_id}"] if self.entity else []
        parts += [f"{k}={v}" for k, v in d.items()]
        if "personal" in self.details:
            parts.append("fields=" + ",".join(sorted(self.details["personal"])))
        return " ".join(parts)


def _date(value: str | date | None, field: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(field, "Dates are written YYYY-MM-DD, for example 2026-01-31.") from None


def verify_chain(svc: Services, actor: Actor) -> audit_store.ChainReport:
    svc.require(actor, "audit.view")
    with svc.store.read() as s:
        report = audit_store.verify(s)
    with svc.write(actor) as tx:
        tx.audit("audit.verify", details={"rows": report.rows, "broken": report.first_broken})
    return report


def list_entries(svc: Services, actor: Actor, f: AuditFilter, limit: int = 200,
                 before_id: int | None = None) -> list[AuditEntry]:
    """Newest first, one page (keyset on id)."""
    svc.require(actor, "audit.view")
    since, until = _date(f.since, "since"), _date(f.until, "until")
    where, params = [], {}
    if f.username:
        where.append("a.actor_name = :u COLLATE NOCASE")
        params["u"] = f.username.strip()
    if f.customer_id is not None:
        where.append("a.customer_id = :c")
        params["c"] = f.customer_id
    if f.action:
        where.append("(a.action = :act OR a.action LIKE :actp)")
        params["act"] = f.action.strip()
        params["actp"] = f.action.strip().rstrip(".") + ".%"
    if since:
        where.append("a.at >= :since")
        params["since"] = since.isoformat()
    if until:
        where.append("a.at < :until")
        params["until"] = (until + timedelta(days=1)).isoformat()
    if before_id:
        where.append("a.id < :before")
        params["before"] = before_id
    with svc.store.read() as s:
        rows = list(audit_store.iter_rows(s, " AND ".join(where), params, max(1, min(limit, 5000))))
    # The trail holds no personal values (they sit in audit_value), but a free-text detail (a note,
    # a reason) may: anything shaped like an ID number, a phone or an account is masked (domain.masking).
    return [
        AuditEntry(r["id"], r["at"] if isinstance(r["at"], datetime) else datetime.fromisoformat(str(r["at"])),
                   r["actor_name"], r["on_behalf_of_id"], r["action"], r["entity"], r["entity_id"],
                   r["customer_id"], masking.GENERIC.value(json.loads(r["details"] or "{}")))
        for r in rows
    ]

"""Customer archives: what the history (timeline), the audited views and one customer's data
export read: audit rows and their personal values, contacts, consents, handovers.

Callers: ``crm_tui.services.customers.history``, ``.common`` (audit_unmasked) and ``.rights``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_tui.store import audit as audit_store

__all__ = [
    "audit_entries", "audit_values", "consent_entries", "contact_entries", "export_consents", "export_contacts",
    "handover_entries", "last_audit", "past_sensitive", "staff_display_names",
]


def last_audit(s: Session, actor_id: int | None) -> tuple[str, str | None, Any, str | None, Any] | None:
    """(action, entity, entity_id, details JSON, at) of the actor's latest audit row."""
    r = s.execute(text("SELECT action, entity, entity_id, details, at FROM audit_log WHERE actor_id = :a"
                       " ORDER BY at DESC, id DESC LIMIT 1"), {"a": actor_id}).first()
    return None if r is None else (r[0], r[1], r[2], r[3], r[4])


def past_sensitive(s: Session, customer_id: int) -> list[tuple[str, str | None, str | None]]:
    """(field, old, new) of the personal values kept for the ID number, bank account and phones."""
    return [(r[1], r[2], r[3]) for r in audit_store.customer_values(s, customer_id,
                                                                   ("id_number", "bank_account", "phones"))]


def audit_entries(s: Session, customer_id: int, actions: Iterable[str], before: datetime | None,
                  limit: int) -> list[tuple[int, Any, str, str, str | None]]:
    """(id, at, actor name, action, details JSON) of the customer's audit rows of ``actions``, newest first."""
    in_list = ",".join(f"'{a}'" for a in actions)
    params: dict[str, Any] = {"c": customer_id, "n": limit}
    where = ""
    if before is not None:
        where = " AND at <= :b"
        params["b"] = before.isoformat(sep=" ", timespec="microseconds")
    return [(r[0], r[1], r[2], r[3], r[4]) for r in s.execute(text(
        f"SELECT id, at, actor_name, action, details FROM audit_log WHERE customer_id = :c AND action IN ({in_list})"
        f"{where} ORDER BY id DESC LIMIT :n"), params).all()]


def audit_values(s: Session, audit_ids: Sequence[int]) -> list[tuple[int, str, str | None, str | None]]:
    """(audit id, field, old, new) of these audit rows (``audit_ids`` non-empty)."""
    ids = ",".join(str(i) for i in audit_ids)
    return [(v[0], v[1], v[2], v[3]) for v in s.execute(text(
        f"SELECT audit_id, field, old_value, new_value FROM audit_value WHERE audit_id IN ({ids})"))]


def staff_display_names(s: Session, usernames: Iterable[str]) -> dict[str, str]:
    """username -> display name (``usernames`` non-empty)."""
    users = sorted(usernames)
    return {u: d for u, d in s.execute(text(
        "SELECT username, display_name FROM staff WHERE username IN (" + ",".join(f":u{i}" for i in range(len(users)))
        + ")"), {f"u{i}": u for i, u in enumerate(users)})}


def contact_entries(s: Session, customer_id: int, before: datetime | None, limit: int
                    ) -> list[tuple[int, Any, str, str | None, str | None, str | None, str | None, str | None]]:
    """(id, at, method, participants, summary, feedback, next action, staff name), newest first."""
    params: dict[str, Any] = {"c": customer_id, "n": limit}
    where = ""
    if before is not None:
        where = " AND k.at <= :b"
        params["b"] = before
    return [tuple(r) for r in s.execute(text(  # type: ignore[misc]
        "SELECT k.id, k.at, k.method, k.participants, k.summary, k.feedback, k.next_action, st.display_name"
        f" FROM customer_contact k LEFT JOIN staff st ON st.id = k.staff_id WHERE k.customer_id = :c{where}"
        " ORDER BY k.at DESC, k.id DESC LIMIT :n"), params).all()]


def consent_entries(s: Session, customer_id: int, limit: int
                    ) -> list[tuple[int, str | None, str, str, Any, Any, Any, str | None]]:
    """(id, purpose, scope, method, given_at, withdrawn_at, recorded_at, recorded by), newest first."""
    return [tuple(r) for r in s.execute(text(  # type: ignore[misc]
        "SELECT k.id, k.purpose, k.scope, k.method, k.given_at, k.withdrawn_at, k.recorded_at, st.display_name"
        " FROM customer_consent k LEFT JOIN staff st ON st.id = k.recorded_by_id WHERE k.customer_id = :c"
        " ORDER BY k.id DESC LIMIT :n"), {"c": customer_id, "n": limit}).all()]


def handover_entries(s: Session, customer_id: int, limit: int
                     ) -> list[tuple[int, Any, str, str, str | None, str | None, Any]]:
    """(handover id, at, from name, to name, note, by name, informed_at), newest first."""
    return [tuple(r) for r in s.execute(text(  # type: ignore[misc]
        "SELECT h.id, h.at, a.display_name, b.display_name, h.note, by_.display_name, i.informed_at"
        " FROM customer_handover_item i JOIN customer_handover h ON h.id = i.handover_id"
        " JOIN staff a ON a.id = h.from_staff_id JOIN staff b ON b.id = h.to_staff_id"
        " LEFT JOIN staff by_ ON by_.id = h.by_id WHERE i.customer_id = :c ORDER BY h.id DESC LIMIT :n"),
        {"c": customer_id, "n": limit}).all()]


def export_consents(s: Session, customer_id: int) -> list[tuple[str | None, str, str, Any, Any]]:
    """(purpose, scope, method, given_at, withdrawn_at) of every consent, oldest first."""
    return [tuple(r) for r in s.execute(text(  # type: ignore[misc]
        "SELECT purpose, scope, method, given_at, withdrawn_at FROM customer_consent"
        " WHERE customer_id = :c ORDER BY id"), {"c": customer_id})]


def export_contacts(s: Session, customer_id: int
                    ) -> list[tuple[Any, str, str | None, str | None, str | None, str | None]]:
    """(at, method, participants, summary, feedback, next action) of every contact, oldest first."""
    return [tuple(r) for r in s.execute(text(  # type: ignore[misc]
        "SELECT at, method, participants, summary, feedback, next_action"
        " FROM customer_contact WHERE customer_id = :c ORDER BY at, id"), {"c": customer_id})]

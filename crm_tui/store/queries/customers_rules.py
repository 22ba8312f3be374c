"""Customer rules beyond one archive edit (services.customer_rules, issue 20): business stopped
(R-CUST-3), phone inspections (R-CUST-8), second-contact tasks (R-CUST-10), the archive's extra lines.
The shared-phone filing and the rules' watch lists and counts are in ``customers_lists``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

__all__ = [
    "active_contacts", "business_state", "close_contact_task", "contact_task_state", "insert_contact_task",
    "insert_inspection", "last_inspection", "mark_important", "open_contact_task", "open_task_due",
    "owner_active", "clear_inspection_flag", "resume_business", "stop_business", "importance",
]


def business_state(s: Session, customer_id: int) -> tuple[str, Any, Any] | None:
    """(number, false_info, business_stopped) of the archive."""
    r = s.execute(text("SELECT number, false_info, business_stopped FROM customer WHERE id = :i"),
                  {"i": customer_id}).first()
    return None if r is None else (r[0], r[1], r[2])


def stop_business(s: Session, customer_id: int, note: str, by: int | None, now: datetime) -> None:
    s.execute(text("UPDATE customer SET business_stopped = 1, business_stop_note = :n, business_stopped_at = :now,"
                   " version = version + 1, updated_at = :now, updated_by_id = :by WHERE id = :i"),
              {"n": note, "now": now, "by": by, "i": customer_id})


def resume_business(s: Session, customer_id: int, by: int | None, now: datetime) -> None:
    s.execute(text("UPDATE customer SET business_stopped = 0, business_stop_note = NULL, business_stopped_at = NULL,"
                   " version = version + 1, updated_at = :now, updated_by_id = :by WHERE id = :i"),
              {"now": now, "by": by, "i": customer_id})


def insert_inspection(s: Session, customer_id: int, flagged_at: Any, by: int | None, now: datetime,
                      result: str) -> int:
    """A phone-change inspection (R-CUST-8); returns its id."""
    return int(s.execute(text(
        "INSERT INTO customer_phone_inspection (customer_id, flagged_at, inspected_at, inspected_by_id, result)"
        " VALUES (:c, :f, :now, :by, :r) RETURNING id"),
        {"c": customer_id, "f": flagged_at, "now": now, "by": by, "r": result}).scalar_one())


def clear_inspection_flag(s: Session, customer_id: int) -> None:
    s.execute(text("UPDATE customer SET phone_inspection_since = NULL WHERE id = :c"), {"c": customer_id})


def active_contacts(s: Session, customer_id: int) -> int:
    """Active staff in contact with the customer, the responsible one included."""
    return int(s.execute(text(
        "SELECT count(*) FROM staff st WHERE st.active = 1 AND (st.id = (SELECT owner_id FROM customer WHERE id = :c)"
        " OR st.id IN (SELECT staff_id FROM customer_staff WHERE customer_id = :c))"), {"c": customer_id}).scalar_one())


def contact_task_state(s: Session, customer_id: int) -> tuple[Any, Any, str] | None:
    """(important, erased_at, number) of the archive."""
    r = s.execute(text("SELECT important, erased_at, number FROM customer WHERE id = :c"), {"c": customer_id}).first()
    return None if r is None else (r[0], r[1], r[2])


def open_contact_task(s: Session, customer_id: int) -> int | None:
    """The id of the customer's open second-contact task."""
    r = s.execute(text("SELECT id FROM customer_contact_task WHERE customer_id = :c AND done_at IS NULL"),
                  {"c": customer_id}).first()
    return None if r is None else int(r[0])


def close_contact_task(s: Session, task_id: int, now: datetime) -> None:
    s.execute(text("UPDATE customer_contact_task SET done_at = :now WHERE id = :i"), {"now": now, "i": task_id})


def insert_contact_task(s: Session, customer_id: int, cause: str, now: datetime, due: datetime) -> int:
    return int(s.execute(text("INSERT INTO customer_contact_task (customer_id, cause, created_at, due_at)"
                              " VALUES (:c, :k, :now, :due) RETURNING id"),
                         {"c": customer_id, "k": cause, "now": now, "due": due}).scalar_one())


def importance(s: Session, customer_id: int) -> tuple[Any, str] | None:
    """(important, number) of the archive."""
    r = s.execute(text("SELECT important, number FROM customer WHERE id = :c"), {"c": customer_id}).first()
    return None if r is None else (r[0], r[1])


def mark_important(s: Session, customer_id: int) -> None:
    s.execute(text("UPDATE customer SET important = 1, version = version + 1 WHERE id = :c"), {"c": customer_id})


def last_inspection(s: Session, customer_id: int) -> tuple[Any, str | None, str | None] | None:
    """(inspected at, by whom, result) of the latest phone inspection."""
    r = s.execute(text("SELECT i.inspected_at, st.display_name, i.result FROM customer_phone_inspection i LEFT JOIN"
                       " staff st ON st.id = i.inspected_by_id WHERE i.customer_id = :c ORDER BY i.id DESC LIMIT 1"),
                  {"c": customer_id}).first()
    return None if r is None else (r[0], r[1], r[2])


def open_task_due(s: Session, customer_id: int) -> tuple[Any] | None:
    """(due at,) of the open second-contact task."""
    r = s.execute(text("SELECT due_at FROM customer_contact_task WHERE customer_id = :c AND done_at IS NULL"),
                  {"c": customer_id}).first()
    return None if r is None else (r[0],)


def owner_active(s: Session, customer_id: int) -> tuple[Any] | None:
    """(active,) of the responsible staff member's account."""
    r = s.execute(text("SELECT st.active FROM customer c JOIN staff st ON st.id = c.owner_id WHERE c.id = :c"),
                  {"c": customer_id}).first()
    return None if r is None else (r[0],)

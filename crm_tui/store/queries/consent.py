"""Consents and telling customers of changes (services.consent, issue 20: R-CUST-5, R-CUST-6)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_tui.store.queries.customers_lists import Page, keyset

__all__ = ["clear_notes", "consent_and_sensitive", "due_counts", "inform_due", "inform_due_page", "insert_inform_due",
           "mark_told", "sensitive_gone"]


def consent_and_sensitive(s: Session, consent_id: int) -> tuple[int, str, Any] | None:
    """(customer id, scope, whether the archive holds an ID number or bank account) of a consent."""
    r = s.execute(text("SELECT k.customer_id, k.scope, c.id_number IS NOT NULL OR c.bank_account IS NOT NULL"
                       " FROM customer_consent k JOIN customer c ON c.id = k.customer_id WHERE k.id = :i"),
                  {"i": consent_id}).first()
    return None if r is None else (r[0], r[1], r[2])


def sensitive_gone(s: Session, customer_id: int) -> Any:
    """Whether the archive holds neither an ID number nor a bank account."""
    return s.execute(text("SELECT id_number IS NULL AND bank_account IS NULL FROM customer WHERE id = :c"),
                     {"c": customer_id}).scalar_one()


def insert_inform_due(s: Session, customer_id: int, fields_json: str, now: datetime, by: int | None,
                      due: date) -> None:
    s.execute(text("INSERT INTO customer_inform_due (customer_id, fields, changed_at, changed_by_id, due_date)"
                   " VALUES (:c, :f, :now, :by, :due)"),
              {"c": customer_id, "f": fields_json, "now": now, "by": by, "due": due})


def inform_due_page(s: Session, cursor: str | None, limit: int) -> Page:
    """(due date, item id, customer id, fields JSON) of changes not told yet, of live archives."""
    return keyset(s, "SELECT d.due_date, d.id, d.customer_id, d.fields FROM customer_inform_due d"
                  " JOIN customer c ON c.id = d.customer_id"
                  " WHERE d.informed_at IS NULL AND c.erased_at IS NULL", {}, cursor, "w5", limit,
                  "d.due_date", "d.id")


def inform_due(s: Session, due_id: int) -> tuple[int, str, Any] | None:
    """(customer id, fields JSON, informed_at) of a change owed a notice."""
    r = s.execute(text("SELECT customer_id, fields, informed_at FROM customer_inform_due WHERE id = :i"),
                  {"i": due_id}).first()
    return None if r is None else (r[0], r[1], r[2])


def mark_told(s: Session, due_id: int, by: int | None, now: datetime, method: str | None, note: str | None) -> None:
    s.execute(text("UPDATE customer_inform_due SET informed_at = :now, informed_by_id = :by, informed_method = :m,"
                   " note = :n WHERE id = :i"), {"now": now, "by": by, "m": method, "n": note, "i": due_id})


def clear_notes(s: Session, customer_id: int) -> int:
    """Erasure: the notes of the customer's notices emptied; returns how many."""
    return int(s.execute(text("UPDATE customer_inform_due SET note = NULL WHERE customer_id = :c AND note IS NOT NULL"),
                         {"c": customer_id}).rowcount)  # type: ignore[attr-defined]


def due_counts(s: Session, today: date) -> tuple[int, int]:
    """(changes still to tell, of which late) on live archives."""
    row = s.execute(text("SELECT count(*), sum(d.due_date < :t) FROM customer_inform_due d JOIN customer c"
                         " ON c.id = d.customer_id WHERE d.informed_at IS NULL AND c.erased_at IS NULL"),
                    {"t": today}).one()
    return int(row[0] or 0), int(row[1] or 0)

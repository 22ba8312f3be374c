"""Customer archives: the archive row and its parts (phones, tags, staff in contact, consents,
contact log), and the writes of create, update, false information, consents and contacts.

The callers are ``crm_tui.services.customers`` (archive, views, contacts ...). Each function runs
in the caller's session/transaction. The archive row comes back as a dict keyed by
:data:`CUSTOMER_COLS` (booleans as stored, 0/1), a phone as a :class:`PhoneRecord`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypedDict

from sqlalchemy import text
from sqlalchemy.orm import Session

__all__ = [
    "CUSTOMER_COLS", "PhoneRecord", "StaffRef", "active_staff", "add_staff_contact", "add_tag", "clear_false_info", "consent_rows",
    "contact_insert", "customer_number", "customer_row", "customer_id_by_number", "customer_owner",
    "delete_phone", "delete_staff_contacts", "delete_tag", "ident_holder", "insert_consent", "insert_customer",
    "insert_phone", "mark_false_info", "next_number", "other_holders", "phone_holders", "phone_national", "phones",
    "sensitive_consent", "share_with_holder", "shared_phone_ids", "staff_by_id", "staff_by_username",
    "staff_contacts", "staff_names", "tags", "touch_activity", "unshare_phone", "update_customer",
    "update_phone", "consent_state", "withdraw_consent", "drop_sensitive",
]

#: Every column of ``customer`` an archive reads, in this order.
CUSTOMER_COLS = (
    "id", "number", "kind", "name", "contact_person", "address", "postcode", "email", "gender", "birth_date",
    "occupation", "employer", "family_notes", "id_number", "legal_rep", "fax", "business_scope",
    "registered_capital", "uscc", "key_decision_makers", "business_needs", "cooperation_history",
    "credit_status", "bank_name", "bank_account", "notes", "category", "industry", "size", "coop_since",
    "source", "credit_rating", "risk_rating", "grade", "owner_id", "important", "false_info",
    "false_info_note", "false_info_at", "business_stopped", "business_stop_note", "business_stopped_at",
    "needs_informing", "missing_fields", "incomplete_due", "phone_changed_at", "phone_changed_prev_at",
    "phone_inspection_since", "last_activity_at", "version",
    "created_at", "created_by_id", "updated_at", "updated_by_id", "erased_at",
)


class PhoneRecord(TypedDict):
    """One row of ``customer_phone`` as an archive reads it."""

    id: int
    national: str
    e164: str
    kind: str
    label: str | None
    is_primary: int
    shared_reason: str | None
    shared_approved_at: Any
    shared_review_due: Any
    shared_chief_id: int | None
    shared_chief_at: Any
    shared_deputy_id: int | None
    shared_deputy_at: Any
    shared_filed_by_id: int | None
    shared_filed_at: Any


#: (id, display name, active)
StaffRef = tuple[int, str, bool]


# -- reading the archive ------------------------------------------------------------------------------

def customer_row(s: Session, customer_id: int) -> dict[str, Any] | None:
    """The archive's row (keys :data:`CUSTOMER_COLS`), erased or not; None when there is none."""
    r = s.execute(text(f"SELECT {', '.join(CUSTOMER_COLS)} FROM customer WHERE id = :i"),
                  {"i": customer_id}).mappings().first()
    return None if r is None else dict(r)


def phones(s: Session, customer_id: int) -> list[PhoneRecord]:
    """The archive's phones, the primary first."""
    return [PhoneRecord(**r) for r in s.execute(text(  # type: ignore[typeddict-item]
        "SELECT id, national, e164, kind, label, is_primary, shared_reason, shared_approved_at, shared_review_due,"
        " shared_chief_id, shared_chief_at, shared_deputy_id, shared_deputy_at, shared_filed_by_id, shared_filed_at"
        " FROM customer_phone WHERE customer_id = :c ORDER BY is_primary DESC, id"), {"c": customer_id}).mappings()]


def tags(s: Session, customer_id: int) -> list[str]:
    return [r[0] for r in s.execute(text("SELECT tag FROM customer_tag WHERE customer_id = :c ORDER BY tag"),
                                    {"c": customer_id})]


def staff_contacts(s: Session, customer_id: int) -> list[int]:
    """The staff in contact (besides the responsible one), by id."""
    return [r[0] for r in s.execute(text("SELECT staff_id FROM customer_staff WHERE customer_id = :c ORDER BY staff_id"),
                                    {"c": customer_id})]


def staff_names(s: Session, ids: Sequence[int]) -> dict[int, str]:
    """Display names of staff by id (``ids`` non-empty)."""
    rows = s.execute(text(f"SELECT id, display_name FROM staff WHERE id IN ({','.join(map(str, ids))})"))
    return {r[0]: r[1] for r in rows}


def staff_by_id(s: Session, staff_id: int) -> StaffRef | None:
    r = s.execute(text("SELECT id, display_name, active FROM staff WHERE id = :i"), {"i": staff_id}).first()
    return None if r is None else (r[0], r[1], r[2])


def staff_by_username(s: Session, username: str) -> StaffRef | None:
    r = s.execute(text("SELECT id, display_name, active FROM staff WHERE username = :u"), {"u": username}).first()
    return None if r is None else (r[0], r[1], r[2])


def customer_owner(s: Session, customer_id: int) -> tuple[int | None] | None:
    """(owner id,) of the archive, or None when there is no such archive."""
    r = s.execute(text("SELECT owner_id FROM customer WHERE id = :i"), {"i": customer_id}).first()
    return None if r is None else (r[0],)


def customer_id_by_number(s: Session, number: str) -> int | None:
    """The id of the (not erased) archive numbered ``number``."""
    r = s.execute(text("SELECT id FROM customer WHERE number = :n AND erased_at IS NULL"), {"n": number}).first()
    return None if r is None else int(r[0])


def customer_number(s: Session, customer_id: int) -> str:
    return str(s.execute(text("SELECT number FROM customer WHERE id = :c"), {"c": customer_id}).scalar_one())


def consent_rows(s: Session, customer_id: int) -> list[tuple[int, str | None, str, str, Any, Any, int | None]]:
    """(id, purpose, scope, method, given_at, withdrawn_at, recorded_by_id) by given date."""
    return [tuple(r) for r in s.execute(text(  # type: ignore[misc]
        "SELECT id, purpose, scope, method, given_at, withdrawn_at, recorded_by_id FROM customer_consent"
        " WHERE customer_id = :c ORDER BY given_at, id"), {"c": customer_id}).all()]


def sensitive_consent(s: Session, customer_id: int) -> bool:
    """Whether a consent of scope "sensitive" stands (not withdrawn)."""
    return s.execute(text("SELECT 1 FROM customer_consent WHERE customer_id = :c AND scope = 'sensitive'"
                          " AND withdrawn_at IS NULL LIMIT 1"), {"c": customer_id}).first() is not None


def phone_national(s: Session, customer_id: int, phone_id: int) -> str | None:
    r = s.execute(text("SELECT national FROM customer_phone WHERE id = :i AND customer_id = :c"),
                  {"i": phone_id, "c": customer_id}).first()
    return None if r is None else r[0]


# -- checks before a write ----------------------------------------------------------------------------

def ident_holder(s: Session, column: str, value: Any, exclude: int) -> tuple[int, str] | None:
    """(id, number) of another live archive with this ``id_number`` or ``uscc`` (``column``)."""
    assert column in ("id_number", "uscc")
    r = s.execute(text(f"SELECT id, number FROM customer WHERE {column} = :v AND id != :x AND erased_at IS NULL LIMIT 1"),
                  {"v": value, "x": exclude}).first()
    return None if r is None else (int(r[0]), str(r[1]))


def phone_holders(s: Session, national: str, exclude: int) -> list[tuple[int, str, str | None, str]]:
    """(id, number, name, kind) of other live archives with this phone (at most 20)."""
    return [(r[0], r[1], r[2], r[3]) for r in s.execute(text(
        "SELECT DISTINCT c.id, c.number, c.name, c.kind FROM customer_phone ph JOIN customer c ON c.id = ph.customer_id"
        " WHERE ph.national = :n AND c.id != :x AND c.erased_at IS NULL ORDER BY c.id LIMIT 20"),
        {"n": national, "x": exclude}).all()]


# -- shared phones (R-CUST-7) --------------------------------------------------------------------------

def other_holders(s: Session, national: str, customer_id: int) -> list[tuple[int, int, str | None, str]]:
    """(phone id, customer id, shared reason, customer number) of the number on other live archives."""
    return [(r[0], r[1], r[2], r[3]) for r in s.execute(text(
        "SELECT ph.id, ph.customer_id, ph.shared_reason, c.number FROM customer_phone ph"
        " JOIN customer c ON c.id = ph.customer_id WHERE ph.national = :n AND ph.customer_id != :c"
        " AND c.erased_at IS NULL"), {"n": national, "c": customer_id}).all()]


def share_with_holder(s: Session, phone_id: int, reason: str, review_due: date) -> None:
    """The phone gets ``reason`` (when it had none) and comes back for review, signatures cleared."""
    s.execute(text("UPDATE customer_phone SET shared_reason = coalesce(shared_reason, :r), shared_review_due = :d,"
                   " shared_approved_at = NULL, shared_approved_by_id = NULL, shared_chief_id = NULL,"
                   " shared_chief_at = NULL, shared_deputy_id = NULL, shared_deputy_at = NULL WHERE id = :i"),
              {"r": reason, "d": review_due, "i": phone_id})


def shared_phone_ids(s: Session, national: str) -> list[int]:
    """Ids of the phone rows with this number on live archives."""
    return [r[0] for r in s.execute(text("SELECT ph.id FROM customer_phone ph JOIN customer c ON c.id = ph.customer_id"
                                         " WHERE ph.national = :n AND c.erased_at IS NULL"), {"n": national}).all()]


def unshare_phone(s: Session, phone_id: int) -> None:
    s.execute(text("UPDATE customer_phone SET shared_reason = NULL, shared_review_due = NULL WHERE id = :i"),
              {"i": phone_id})


# -- writes of create and update ------------------------------------------------------------------------

def next_number(s: Session, year: int) -> int:
    """The next sequence number of ``year`` for a customer number."""
    return int(s.execute(text("INSERT INTO customer_number_seq (year, last) VALUES (:y, 1) ON CONFLICT(year)"
                              " DO UPDATE SET last = last + 1 RETURNING last"), {"y": year}).scalar_one())


def insert_customer(s: Session, cols: Mapping[str, Any]) -> int:
    """A new ``customer`` row with these columns; returns its id."""
    names = list(cols)
    return int(s.execute(text(f"INSERT INTO customer ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})"
                              " RETURNING id"), dict(cols)).scalar_one())


def update_customer(s: Session, customer_id: int, expected_version: int, sets: Mapping[str, Any]) -> int:
    """Set ``sets`` and bump the version when it is still ``expected_version``; returns the rows changed."""
    assignments = ", ".join(f"{k} = :{k}" for k in sets)
    res = s.execute(text(f"UPDATE customer SET {assignments}, version = version + 1 WHERE id = :_id AND version = :_v"),
                    {**sets, "_id": customer_id, "_v": expected_version})
    return int(res.rowcount)  # type: ignore[attr-defined]


def insert_phone(s: Session, customer_id: int, *, national: str, e164: str, kind: str, label: str | None,
                 primary: bool, shared_reason: str | None, review_due: date | None, now: datetime) -> None:
    s.execute(text(
        "INSERT INTO customer_phone (customer_id, national, e164, kind, label, is_primary, shared_reason,"
        " shared_review_due, created_at) VALUES (:c, :n, :e, :k, :l, :p, :r, :due, :now)"),
        {"c": customer_id, "n": national, "e": e164, "k": kind, "l": label, "p": primary,
         "r": shared_reason, "due": review_due, "now": now})


def delete_phone(s: Session, phone_id: int) -> None:
    s.execute(text("DELETE FROM customer_phone WHERE id = :i"), {"i": phone_id})


def update_phone(s: Session, customer_id: int, national: str, label: str | None, primary: bool) -> None:
    s.execute(text("UPDATE customer_phone SET label = :l, is_primary = :p WHERE customer_id = :c AND national = :n"),
              {"l": label, "p": primary, "c": customer_id, "n": national})


def add_tag(s: Session, customer_id: int, tag: str) -> None:
    s.execute(text("INSERT INTO customer_tag (customer_id, tag) VALUES (:c, :t)"), {"c": customer_id, "t": tag})


def delete_tag(s: Session, customer_id: int, tag: str) -> None:
    s.execute(text("DELETE FROM customer_tag WHERE customer_id = :c AND tag = :t"), {"c": customer_id, "t": tag})


def add_staff_contact(s: Session, customer_id: int, staff_id: int) -> None:
    s.execute(text("INSERT INTO customer_staff (customer_id, staff_id) VALUES (:c, :s)"),
              {"c": customer_id, "s": staff_id})


def delete_staff_contacts(s: Session, customer_id: int, staff_id: int | None = None) -> None:
    """Every staff contact of the archive, or only ``staff_id``."""
    if staff_id is None:
        s.execute(text("DELETE FROM customer_staff WHERE customer_id = :c"), {"c": customer_id})
    else:
        s.execute(text("DELETE FROM customer_staff WHERE customer_id = :c AND staff_id = :s"),
                  {"c": customer_id, "s": staff_id})


def insert_consent(s: Session, customer_id: int, *, purpose: str | None, scope: str, method: str, given_at: date,
                   note: str | None, by: int | None, now: datetime) -> int:
    """A consent the customer gave; returns its id."""
    return int(s.execute(text(
        "INSERT INTO customer_consent (customer_id, purpose, scope, method, given_at, note, recorded_by_id,"
        " recorded_at) VALUES (:c, :p, :s, :m, :g, :n, :by, :now) RETURNING id"),
        {"c": customer_id, "p": purpose, "s": scope, "m": method, "g": given_at, "n": note,
         "by": by, "now": now}).scalar_one())


# -- false information (R-CUST-3) ---------------------------------------------------------------------

def mark_false_info(s: Session, customer_id: int, note: str, stop_business: bool, by: int | None,
                    now: datetime) -> None:
    s.execute(text("UPDATE customer SET false_info = 1, false_info_note = :n, false_info_at = :now,"
                   " business_stopped = :b, business_stopped_at = coalesce(business_stopped_at, :now), version = version + 1, updated_at = :now, updated_by_id = :by"
                   " WHERE id = :i"), {"n": note, "now": now, "b": stop_business, "by": by, "i": customer_id})


def clear_false_info(s: Session, customer_id: int, by: int | None, now: datetime) -> None:
    s.execute(text("UPDATE customer SET false_info = 0, false_info_note = NULL, business_stopped = 0,"
                   " business_stop_note = NULL, business_stopped_at = NULL,"
                   " version = version + 1, updated_at = :now, updated_by_id = :by WHERE id = :i"),
              {"now": now, "by": by, "i": customer_id})


# -- contact log and consents ------------------------------------------------------------------------------

def contact_insert(s: Session, customer_id: int, *, at: datetime, method: str, participants: str | None,
                   summary: str | None, feedback: str | None, next_action: str | None, staff_id: int | None,
                   now: datetime) -> int:
    """A contact with the customer; returns its id."""
    return int(s.execute(text(
        "INSERT INTO customer_contact (customer_id, at, method, participants, summary, feedback, next_action,"
        " staff_id, created_at) VALUES (:c, :at, :m, :p, :s, :f, :n, :st, :now) RETURNING id"),
        {"c": customer_id, "at": at, "m": method, "p": participants, "s": summary,
         "f": feedback, "n": next_action, "st": staff_id, "now": now}).scalar_one())


def touch_activity(s: Session, customer_id: int, now: datetime) -> None:
    s.execute(text("UPDATE customer SET last_activity_at = max(last_activity_at, :now) WHERE id = :c"),
              {"now": now, "c": customer_id})


def consent_state(s: Session, consent_id: int) -> tuple[int, str, Any] | None:
    """(customer id, scope, withdrawn_at) of a consent."""
    r = s.execute(text("SELECT customer_id, scope, withdrawn_at FROM customer_consent WHERE id = :i"),
                  {"i": consent_id}).first()
    return None if r is None else (r[0], r[1], r[2])


def withdraw_consent(s: Session, consent_id: int, now: datetime) -> None:
    s.execute(text("UPDATE customer_consent SET withdrawn_at = :now WHERE id = :i"), {"now": now, "i": consent_id})


def drop_sensitive(s: Session, customer_id: int, by: int | None, now: datetime) -> None:
    """The ID number and bank account deleted from the archive (R-CUST-6)."""
    s.execute(text("UPDATE customer SET id_number = NULL, bank_account = NULL, version = version + 1,"
                   " updated_at = :now, updated_by_id = :by WHERE id = :c"), {"now": now, "by": by, "c": customer_id})


def active_staff(s: Session) -> list[tuple[int, str]]:
    """(id, display name) of every active staff member, by name (an archive form's owner choices)."""
    return [(int(r[0]), str(r[1])) for r in s.execute(
        text("SELECT id, display_name FROM staff WHERE active ORDER BY display_name")).all()]

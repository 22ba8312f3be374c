"""Customer archives: the watch lists (keyset pages), the home page's counts, shared-phone
signatures and filing, handovers, the rules' tasks (R-CUST-3, -7, -8, -10, -11, -13) and erasure.

Callers: ``crm_tui.services.customers`` (watch, handovers, rights) and ``services.customer_rules``.
A watch page is ``(rows, next cursor)``: plain tuples whose first two values are the sort key and
the id, ordered by them, after the cursor (``search_index`` cursors).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_tui.store import audit as audit_store
from crm_tui.store import pending, search_index

Page = tuple[list[tuple[Any, ...]], "str | None"]

__all__ = [
    "Page", "keyset", "phone_changes_page", "past_deadline_page", "shared_phones_page", "understaffed_page",
    "past_retention_page", "shared_filing_page", "contact_tasks_page", "owner_disabled_page",
]


def keyset(s: Any, sql: str, params: dict[str, Any], cursor: str | None, mode: str, limit: int,
           key_col: str, id_col: str) -> Page:
    """Rows ordered by (key_col, id_col) after the cursor; the SELECT's first two columns are the key and id."""
    limit = max(1, min(limit, 500))
    after = search_index.decode_cursor(cursor, mode)
    if after is not None:
        sql += f" AND ({key_col}, {id_col}) > (:_k, :_i)"
        params = {**params, "_k": after[0], "_i": after[1]}
    rows = [tuple(r) for r in s.execute(text(f"{sql} ORDER BY {key_col}, {id_col} LIMIT :_n"),
                                        {**params, "_n": limit + 1}).all()]
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = search_index.encode_cursor(mode, str(rows[-1][0]), int(rows[-1][1])) if more and rows else None
    return rows, nxt


# -- R-CUST-7, -8, -9, -10, -13 watch lists --------------------------------------------------------------

#: R-CUST-7: a shared phone awaits signatures when it was never approved or its review is due.
SHARED_DUE = ("ph.shared_reason IS NOT NULL AND (ph.shared_approved_at IS NULL OR ph.shared_review_due <= :today)")

# Important customers with fewer than two ACTIVE staff in contact, owner included (a disabled account
# is nobody's contact, R-CUST-10). INDEXED BY: the planner, without statistics, once met
# "erased_at IS NULL" with another partial index and scanned every customer.
ACTIVE_CONTACTS = ("((SELECT count(*) FROM staff o WHERE o.id = c.owner_id AND o.active = 1) + (SELECT count(*)"
                    " FROM customer_staff cs JOIN staff st ON st.id = cs.staff_id WHERE cs.customer_id = c.id"
                    " AND cs.staff_id IS NOT c.owner_id AND st.active = 1))")
UNDERSTAFFED = ("INDEXED BY ix_customer_important WHERE c.important = 1 AND c.erased_at IS NULL AND "
                + ACTIVE_CONTACTS + " < 2")

#: R-CUST-7: signed twice, not filed with internal control yet.
UNFILED = "ph.shared_reason IS NOT NULL AND ph.shared_approved_at IS NOT NULL AND ph.shared_filed_at IS NULL"


def phone_changes_page(s: Session, cursor: str | None, limit: int) -> Page:
    """R-CUST-8: (inspection due since, customer id, previous change, last change)."""
    return keyset(s, "SELECT c.phone_inspection_since, c.id, c.phone_changed_prev_at, c.phone_changed_at"
                  " FROM customer c WHERE c.phone_inspection_since IS NOT NULL AND c.erased_at IS NULL",
                  {}, cursor, "w8", limit, "c.phone_inspection_since", "c.id")


def past_deadline_page(s: Session, now: str, cursor: str | None, limit: int) -> Page:
    """R-CUST-9: (maintenance deadline, customer id, missing fields JSON) past ``now`` (ISO text)."""
    return keyset(s, "SELECT c.incomplete_due, c.id, c.missing_fields FROM customer c"
                  " WHERE c.incomplete_due IS NOT NULL AND c.incomplete_due < :now",
                  {"now": now}, cursor, "w9", limit, "c.incomplete_due", "c.id")


def shared_phones_page(s: Session, today: str, cursor: str | None, limit: int) -> Page:
    """R-CUST-7: (review due, phone id, customer id, reason, chief signed at, deputy signed at)."""
    return keyset(s, "SELECT ph.shared_review_due, ph.id, ph.customer_id, ph.shared_reason,"
                  " ph.shared_chief_at, ph.shared_deputy_at FROM customer_phone ph WHERE " + SHARED_DUE,
                  {"today": today}, cursor, "w7", limit, "ph.shared_review_due", "ph.id")


def understaffed_page(s: Session, cursor: str | None, limit: int) -> Page:
    """R-CUST-10: (customer id, customer id) of important customers short of active contacts."""
    return keyset(s, f"SELECT c.id, c.id FROM customer c {UNDERSTAFFED}", {}, cursor, "w10", limit, "c.id", "c.id")


def past_retention_page(s: Session, cutoff: str, cursor: str | None, limit: int) -> Page:
    """R-CUST-13: (last activity, customer id) of live archives idle since before ``cutoff`` (ISO text)."""
    return keyset(s, "SELECT c.last_activity_at, c.id FROM customer c WHERE c.erased_at IS NULL"
                  " AND c.last_activity_at < :cut", {"cut": cutoff}, cursor, "wr", limit, "c.last_activity_at", "c.id")


def shared_filing_page(s: Session, cursor: str | None, limit: int) -> Page:
    """R-CUST-7: (approved at, phone id, customer id, reason) of shared phones to file."""
    return keyset(s, "SELECT ph.shared_approved_at, ph.id, ph.customer_id, ph.shared_reason"
                  " FROM customer_phone ph WHERE " + UNFILED, {}, cursor, "w7f", limit,
                  "ph.shared_approved_at", "ph.id")


def contact_tasks_page(s: Session, cursor: str | None, limit: int) -> Page:
    """R-CUST-10: (due at, task id, customer id) of open second-contact tasks."""
    return keyset(s, "SELECT t.due_at, t.id, t.customer_id FROM customer_contact_task t"
                  " WHERE t.done_at IS NULL", {}, cursor, "w10t", limit, "t.due_at", "t.id")


def owner_disabled_page(s: Session, cursor: str | None, limit: int) -> Page:
    """R-CUST-10/11: (customer id, customer id) of live archives whose responsible account is disabled."""
    return keyset(s, "SELECT c.id, c.id FROM customer c JOIN staff st ON st.id = c.owner_id"
                  " WHERE st.active = 0 AND c.erased_at IS NULL" + pending.hide(s, "c.id"), {}, cursor,
                  "wod", limit, "c.id", "c.id")


# -- the home page's counts ------------------------------------------------------------------------------

def _count(s: Session, sql: str, **params: Any) -> int:
    return int(s.execute(text(sql), params).scalar_one())


def count_phone_changes(s: Session) -> int:
    return _count(s, "SELECT count(*) FROM customer WHERE phone_inspection_since IS NOT NULL AND erased_at IS NULL")


def count_past_deadline(s: Session, now: str) -> int:
    from crm_tui.store.queries import summary  # counts per deadline day (issue 22)

    return summary.count_past_deadline(s, now)


def count_past_deadline_rows(s: Session, now: str) -> int:
    return _count(s, "SELECT count(*) FROM customer WHERE incomplete_due IS NOT NULL AND incomplete_due < :n", n=now)


def count_shared_due(s: Session, today: str) -> int:
    return _count(s, "SELECT count(*) FROM customer_phone ph WHERE " + SHARED_DUE, today=today)


def count_understaffed(s: Session) -> int:
    from crm_tui.store.queries import summary

    if summary.usable(s):  # counts per responsible person and other staff in contact (issue 22)
        return summary.count_understaffed(s)
    return _count(s, f"SELECT count(*) FROM customer c {UNDERSTAFFED}" + pending.hide(s, "c.id"))


def count_to_tell(s: Session, owner_id: int) -> int:
    """Handed-over customers of ``owner_id`` still to be told of their new contact."""
    return _count(s, "SELECT count(*) FROM customer WHERE needs_informing = 1 AND owner_id = :me", me=owner_id)


def count_late_contact_tasks(s: Session, now: str) -> int:
    return _count(s, "SELECT count(*) FROM customer_contact_task WHERE done_at IS NULL AND due_at < :n", n=now)


def count_unfiled(s: Session) -> int:
    return _count(s, "SELECT count(*) FROM customer_phone ph WHERE " + UNFILED)


def count_owner_disabled(s: Session) -> int:
    from crm_tui.store.queries import summary

    if summary.usable(s):  # the summary tables keep live customers per responsible person (issue 22)
        return summary.count_owner_disabled(s)
    return _count(s, "SELECT count(*) FROM customer c JOIN staff st ON st.id = c.owner_id WHERE st.active = 0"
                  " AND c.erased_at IS NULL" + pending.hide(s, "c.id"))


# -- shared-phone signatures and filing (R-CUST-7) ---------------------------------------------------------

def shared_phone_due(s: Session, phone_id: int, today: date
                     ) -> tuple[int, str, int | None, Any, int | None, Any] | None:
    """(customer id, number, chief id, chief at, deputy id, deputy at) of a phone awaiting signatures."""
    r = s.execute(text("SELECT ph.customer_id, c.number, ph.shared_chief_id, ph.shared_chief_at, ph.shared_deputy_id,"
                       " ph.shared_deputy_at FROM customer_phone ph JOIN customer c ON c.id = ph.customer_id"
                       " WHERE ph.id = :i AND " + SHARED_DUE), {"i": phone_id, "today": today}).first()
    return None if r is None else (r[0], r[1], r[2], r[3], r[4], r[5])


def sign_shared_phone(s: Session, phone_id: int, *, chief: tuple[Any, Any], deputy: tuple[Any, Any],
                      complete: bool, by: int | None, now: datetime, review_due: date | None) -> None:
    """Both signature slots as given; ``complete``: approved until ``review_due``, filing cleared."""
    s.execute(text("UPDATE customer_phone SET shared_chief_id = :ci, shared_chief_at = :ca, shared_deputy_id = :di,"
                   " shared_deputy_at = :da" + (", shared_approved_by_id = :by, shared_approved_at = :now,"
                                                " shared_review_due = :due, shared_filed_by_id = NULL,"
                                                " shared_filed_at = NULL" if complete else "") + " WHERE id = :i"),
              {"ci": chief[0], "ca": chief[1], "di": deputy[0], "da": deputy[1],
               "by": by, "now": now, "due": review_due, "i": phone_id})


def unfiled_phone(s: Session, phone_id: int) -> tuple[int, str, int | None, int | None] | None:
    """(customer id, number, chief id, deputy id) of a signed shared phone awaiting filing."""
    r = s.execute(text("SELECT ph.customer_id, c.number, ph.shared_chief_id, ph.shared_deputy_id FROM customer_phone ph"
                       " JOIN customer c ON c.id = ph.customer_id WHERE ph.id = :i AND " + UNFILED),
                  {"i": phone_id}).first()
    return None if r is None else (r[0], r[1], r[2], r[3])


def file_shared_phone(s: Session, phone_id: int, by: int | None, now: datetime) -> None:
    s.execute(text("UPDATE customer_phone SET shared_filed_by_id = :by, shared_filed_at = :now WHERE id = :i"),
              {"by": by, "now": now, "i": phone_id})


# -- handover (R-CUST-11) ---------------------------------------------------------------------------------

def owned_customers(s: Session, owner_id: int) -> list[int]:
    """Ids of the live (and published) customers of ``owner_id``."""
    return [r[0] for r in s.execute(text("SELECT id FROM customer WHERE owner_id = :s AND erased_at IS NULL"
                                         + pending.hide(s, "id") + " ORDER BY id"), {"s": owner_id})]


def owned_among(s: Session, owner_id: int, ids: Sequence[int]) -> set[int]:
    """Those of ``ids`` (non-empty) that are live customers of ``owner_id``."""
    return {r[0] for r in s.execute(text(
        f"SELECT id FROM customer WHERE owner_id = :s AND erased_at IS NULL AND id IN ({','.join(map(str, ids))})"),
        {"s": owner_id})}


def insert_handover(s: Session, *, now: datetime, src: int, dst: int, note: str | None, count: int,
                    by: int | None) -> int:
    return int(s.execute(text("INSERT INTO customer_handover (at, from_staff_id, to_staff_id, note, count, by_id)"
                              " VALUES (:now, :a, :b, :n, :k, :by) RETURNING id"),
                         {"now": now, "a": src, "b": dst, "n": note, "k": count, "by": by}).scalar_one())


def move_customers(s: Session, ids: Sequence[int], dst: int, by: int | None, now: datetime) -> None:
    """The customers (at most 500) go to ``dst``, marked "tell the customer"; ``dst`` leaves their contacts."""
    part = ",".join(map(str, ids))
    s.execute(text(f"UPDATE customer SET owner_id = :b, needs_informing = 1, version = version + 1,"
                   f" updated_at = :now, updated_by_id = :by WHERE id IN ({part})"),
              {"b": dst, "now": now, "by": by})
    s.execute(text(f"DELETE FROM customer_staff WHERE staff_id = :b AND customer_id IN ({part})"), {"b": dst})


def insert_handover_items(s: Session, handover_id: int, ids: Iterable[int]) -> None:
    s.execute(text("INSERT INTO customer_handover_item (handover_id, customer_id) VALUES (:h, :c)"),
              [{"h": handover_id, "c": c} for c in ids])


def mark_informed(s: Session, customer_id: int, by: int | None, now: datetime, method: str | None) -> None:
    """The customer was told of the new contact: the archive's mark and the handover items."""
    s.execute(text("UPDATE customer SET needs_informing = 0, updated_at = :now, updated_by_id = :by,"
                   " version = version + 1 WHERE id = :c"), {"now": now, "by": by, "c": customer_id})
    s.execute(text("UPDATE customer_handover_item SET informed_at = :now, informed_by_id = :by, informed_method = :m"
                   " WHERE customer_id = :c AND informed_at IS NULL"),
              {"now": now, "c": customer_id, "by": by, "m": method})


# -- erasure (R-CUST-13) ----------------------------------------------------------------------------------

def erase_rows(s: Session, customer_id: int, personal_fields: Iterable[str], by: int | None, now: datetime) -> None:
    """The archive's personal columns emptied and its erasure time set; its phones deleted."""
    nulls = ", ".join(f"{f_} = NULL" for f_ in sorted(personal_fields) if f_ not in ("phones", "name"))
    s.execute(text(f"UPDATE customer SET name = '', {nulls}, uscc = NULL, search_name = NULL, search_pinyin = NULL,"
                   " missing_fields = NULL, incomplete_due = NULL, phone_changed_at = NULL, phone_changed_prev_at = NULL,"
                   " needs_informing = 0, erased_at = :now, updated_at = :now, updated_by_id = :by,"
                   " version = version + 1 WHERE id = :c"), {"now": now, "by": by, "c": customer_id})
    s.execute(text("DELETE FROM customer_phone WHERE customer_id = :c"), {"c": customer_id})


def erase_parts(s: Session, customer_id: int, now: datetime) -> None:
    """After :func:`erase_rows`: inspection, tasks, tags, consent and contact texts, audit values."""
    c = {"c": customer_id}
    s.execute(text("UPDATE customer SET phone_inspection_since = NULL, business_stop_note = NULL WHERE id = :c"), c)
    s.execute(text("UPDATE customer_phone_inspection SET result = NULL WHERE customer_id = :c"), c)
    s.execute(text("UPDATE customer_contact_task SET done_at = :now WHERE customer_id = :c AND done_at IS NULL"),
              {"now": now, "c": customer_id})
    s.execute(text("DELETE FROM customer_tag WHERE customer_id = :c"), c)
    s.execute(text("UPDATE customer_consent SET purpose = NULL, note = NULL WHERE customer_id = :c"), c)
    s.execute(text("UPDATE customer_contact SET participants = NULL, summary = NULL, feedback = NULL,"
                   " next_action = NULL WHERE customer_id = :c"), c)
    # The rows whose commitments were rebuilt from these values keep them in their stored form
    # (the one rewrite of a stored audit row; its hashed text, and so the chain, is unchanged).
    audit_store.delete_customer_values(s, customer_id)


def vacuum(engine: Any) -> None:
    """VACUUM the file and truncate the WAL, on a raw connection (no transaction open)."""
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()

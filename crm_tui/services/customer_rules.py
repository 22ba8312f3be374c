"""The customer rules that reach beyond one archive edit (issue 20):

- R-CUST-3 false information / business stopped: :func:`stop_business`, :func:`resume_business`
  (with ``customers.mark_false_information`` / ``clear_false_information``), and
  :func:`require_business_open`, which the follow-up and grade services call before a new card,
  visit or grade change application. Complaints and feedback are still accepted.
- R-CUST-7 shared phones: the two signatures are ``customers.approve_shared_phone``; the filing
  with internal control (备案) is :func:`file_shared_phone`, its list :func:`watch_shared_filing`.
- R-CUST-8 twice-changed phones: ``customers.update_customer`` (the one service that changes
  phones) sets the flag; :func:`record_phone_inspection` records who inspected, when and what was
  found, and clears it.
- R-CUST-10 two contacts: :func:`contact_task_in` opens a task with a deadline (working days) when
  a customer becomes important (grade applied, or marked important) with fewer than two active
  staff in contact; the task is done when a second active colleague is in contact.
  :func:`watch_contact_tasks` is its due list, :func:`watch_owner_disabled` the customers whose
  responsible staff member's account is disabled.

Same conventions as services/customers.py: permission first, one transaction, audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_tui.domain.errors import Conflict, NotFound
from crm_tui.domain.validation import clean_text
from crm_tui.i18n import N_, _
from crm_tui.services import customers as cs
from crm_tui.services import holidays
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.services.home import WorkItem, register_item
from crm_tui.store import pending
from crm_tui.store.audit import PersonalChange

#: R-CUST-10: working days to find the second staff contact of a customer who became important.
SECOND_CONTACT_WORKDAYS = 5


def _sess(s: Session | Tx) -> Session:
    return s.session if isinstance(s, Tx) else s


# ------------------------------------------------------------------------------------------------
# R-CUST-3: false information, business stopped
# ------------------------------------------------------------------------------------------------


class BusinessStopped(Conflict):
    """R-CUST-3: business with this customer is stopped; the caller's action is refused."""



def require_business_open(s: Session | Tx, customer_id: int, what: str) -> None:
    """Refuse ``what`` (an English msgid naming the action, e.g. N_("new follow-up card")) for a
    customer marked as having given false information or with business stopped (R-CUST-3).
    Complaints and feedback do not call this: they are always accepted."""
    r = _sess(s).execute(text("SELECT number, false_info, business_stopped FROM customer WHERE id = :i"),
                         {"i": customer_id}).first()
    if r is None or not (r[1] or r[2]):
        return
    why = _("the customer gave false information") if r[1] else _("business with the customer is stopped")
    raise BusinessStopped("No {what} for customer {number}: {why}. Complaints are still accepted; a supervisor "
                          "can lift the stop.", what=_(what), number=r[0], why=why)


def stop_business(svc: Services, actor: Actor, customer_id: int, reason: str) -> int:
    """Stop business with the customer (R-CUST-3), with the reason; audited. No new follow-up card,
    visit or grade change until a supervisor resumes it. Needs customer.edit. Returns the version."""
    svc.require(actor, "customer.edit", customer=customer_id)
    clean = clean_text(reason, "reason", max_len=500, multiline=True, required=True)
    with svc.write(actor) as tx:
        cur = cs._load_row(tx, customer_id)
        if cur["business_stopped"]:
            raise Conflict("Business with this customer is already stopped.")
        tx.execute("UPDATE customer SET business_stopped = 1, business_stop_note = :n, business_stopped_at = :now,"
                   " version = version + 1, updated_at = :now, updated_by_id = :by WHERE id = :i",
                   {"n": clean, "now": tx.now, "by": actor.staff_id, "i": customer_id})
        tx.audit("customer.business_stopped", entity="customer", entity_id=customer_id, customer_id=customer_id,
                 details={"number": cur["number"], "changes": {"business_stopped": [False, True]}},
                 personal=[PersonalChange("business_stop_note", None, clean)])
        return int(cur["version"]) + 1


def resume_business(svc: Services, actor: Actor, customer_id: int, reason: str) -> int:
    """A supervisor resumes business stopped by :func:`stop_business` (R-CUST-3). A customer still
    marked as having given false information is lifted with ``customers.clear_false_information``.
    Needs customer.business_resume. Returns the version."""
    svc.require(actor, "customer.business_resume", customer=customer_id)
    clean = clean_text(reason, "reason", max_len=500, multiline=True, required=True)
    with svc.write(actor) as tx:
        cur = cs._load_row(tx, customer_id)
        if cur["false_info"]:
            raise Conflict("This customer is marked as having given false information; lift that mark instead.")
        if not cur["business_stopped"]:
            raise Conflict("Business with this customer is not stopped.")
        tx.execute("UPDATE customer SET business_stopped = 0, business_stop_note = NULL, business_stopped_at = NULL,"
                   " version = version + 1, updated_at = :now, updated_by_id = :by WHERE id = :i",
                   {"now": tx.now, "by": actor.staff_id, "i": customer_id})
        tx.audit("customer.business_resumed", entity="customer", entity_id=customer_id, customer_id=customer_id,
                 details={"number": cur["number"], "changes": {"business_stopped": [True, False]}},
                 personal=[PersonalChange("business_stop_note", cur["business_stop_note"], clean)])
        return int(cur["version"]) + 1


# ------------------------------------------------------------------------------------------------
# R-CUST-7: filing shared phones with internal control (备案)
# ------------------------------------------------------------------------------------------------

_UNFILED = "ph.shared_reason IS NOT NULL AND ph.shared_approved_at IS NOT NULL AND ph.shared_filed_at IS NULL"


def file_shared_phone(svc: Services, actor: Actor, phone_id: int, note: str = "") -> None:
    """Internal control files (备案) a shared phone signed by the section chief and the deputy
    manager (R-CUST-7). Needs customer.shared_phone_file; never one of the signers."""
    svc.require(actor, "customer.shared_phone_file")
    clean = clean_text(note, "note", max_len=500, multiline=True)
    with svc.write(actor) as tx:
        r = tx.execute("SELECT ph.customer_id, c.number, ph.shared_chief_id, ph.shared_deputy_id FROM customer_phone ph"
                       " JOIN customer c ON c.id = ph.customer_id WHERE ph.id = :i AND " + _UNFILED,
                       {"i": phone_id}).first()
        if r is None:
            raise NotFound("No signed shared phone awaiting filing.")
        if actor.staff_id in (r[2], r[3]):
            raise Conflict("You signed this shared phone; someone else in internal control files it.")
        tx.execute("UPDATE customer_phone SET shared_filed_by_id = :by, shared_filed_at = :now WHERE id = :i",
                   {"by": actor.staff_id, "now": tx.now, "i": phone_id})
        tx.audit("customer.shared_phone_filed", entity="customer_phone", entity_id=phone_id, customer_id=int(r[0]),
                 details={"number": r[1], "note": clean})


def watch_shared_filing(svc: Services, actor: Actor, *, cursor: str | None = None, limit: int = 50) -> cs.WatchPage:
    """R-CUST-7: shared phones signed twice and not yet filed with internal control."""
    svc.require(actor, "customer.view")
    with svc.store.read() as s:
        rows, nxt = cs._keyset(s, "SELECT ph.shared_approved_at, ph.id, ph.customer_id, ph.shared_reason"
                               " FROM customer_phone ph WHERE " + _UNFILED, {}, cursor, "w7f", limit,
                               "ph.shared_approved_at", "ph.id")
        crow = {r.id: r for r in cs._rows(s, [r[2] for r in rows])}
    return cs.WatchPage([cs.WatchRow(crow[r[2]], _("Signed {date}; to file with internal control",
                                                   date=str(r[0])[:10]) + " · " + _("Reason: {reason}", reason=r[3]),
                                     cs._dt(r[0]), int(r[1])) for r in rows if r[2] in crow], nxt)


# ------------------------------------------------------------------------------------------------
# R-CUST-8: the inspection that clears a twice-changed phone's flag
# ------------------------------------------------------------------------------------------------


def record_phone_inspection(svc: Services, actor: Actor, customer_id: int, result: str) -> int:
    """Record the closer inspection of a customer whose phone changed twice within a month
    (R-CUST-8): who (the actor), when (now), what was found (``result``). Clears the flag. Needs
    customer.phone_inspect. Returns the inspection id."""
    svc.require(actor, "customer.phone_inspect", customer=customer_id)
    clean = clean_text(result, "result", max_len=1000, multiline=True, required=True)
    with svc.write(actor) as tx:
        cur = cs._load_row(tx, customer_id)
        if cur["phone_inspection_since"] is None:
            raise Conflict("This customer has no phone-change inspection pending.")
        iid = int(tx.execute(
            "INSERT INTO customer_phone_inspection (customer_id, flagged_at, inspected_at, inspected_by_id, result)"
            " VALUES (:c, :f, :now, :by, :r) RETURNING id",
            {"c": customer_id, "f": cur["phone_inspection_since"], "now": tx.now, "by": actor.staff_id,
             "r": clean}).scalar_one())
        tx.execute("UPDATE customer SET phone_inspection_since = NULL WHERE id = :c", {"c": customer_id})
        tx.audit("customer.phone_inspected", entity="customer_phone_inspection", entity_id=iid,
                 customer_id=customer_id,
                 details={"number": cur["number"], "flagged_at": str(cur["phone_inspection_since"])[:19],
                          "changes": {"phone_inspection": [True, False]}},
                 personal=[PersonalChange("inspection_result", None, clean)])
    return iid


# ------------------------------------------------------------------------------------------------
# R-CUST-10: two staff in contact with important customers
# ------------------------------------------------------------------------------------------------


def active_contacts(s: Session | Tx, customer_id: int) -> int:
    """Active staff in contact with the customer, the responsible one included."""
    return int(_sess(s).execute(text(
        "SELECT count(*) FROM staff st WHERE st.active = 1 AND (st.id = (SELECT owner_id FROM customer WHERE id = :c)"
        " OR st.id IN (SELECT staff_id FROM customer_staff WHERE customer_id = :c))"), {"c": customer_id}).scalar_one())


def contact_task_in(tx: Tx, svc: Services, customer_id: int, cause: str) -> int | None:
    """Inside the caller's transaction: an important customer with fewer than two active staff in
    contact gets a task (second contact due in SECOND_CONTACT_WORKDAYS working days), unless one is
    open; a customer who has two closes its open task. Returns the new task's id, if any."""
    r = tx.execute("SELECT important, erased_at, number FROM customer WHERE id = :c", {"c": customer_id}).first()
    if r is None:
        return None
    enough = active_contacts(tx, customer_id) >= 2
    open_ = tx.execute("SELECT id FROM customer_contact_task WHERE customer_id = :c AND done_at IS NULL",
                       {"c": customer_id}).first()
    if open_ and (enough or not r[0] or r[1] is not None):
        tx.execute("UPDATE customer_contact_task SET done_at = :now WHERE id = :i", {"now": tx.now, "i": open_[0]})
        tx.audit("customer.contact_task_done", entity="customer_contact_task", entity_id=int(open_[0]),
                 customer_id=customer_id, details={"number": r[2]})
        return None
    if open_ or enough or not r[0] or r[1] is not None:
        return None
    due = holidays.work_calendar(svc).workday_deadline(tx.now, SECOND_CONTACT_WORKDAYS)
    tid = int(tx.execute("INSERT INTO customer_contact_task (customer_id, cause, created_at, due_at)"
                         " VALUES (:c, :k, :now, :due) RETURNING id",
                         {"c": customer_id, "k": cause, "now": tx.now, "due": due}).scalar_one())
    tx.audit("customer.contact_task", entity="customer_contact_task", entity_id=tid, customer_id=customer_id,
             details={"number": r[2], "cause": cause, "due": due.isoformat(sep=" ", timespec="minutes")})
    return tid


def became_important_in(tx: Tx, svc: Services, customer_id: int) -> None:
    """A grade whose standard requires an important customer was applied (R-CUST-10): the archive
    is marked important (audited) and the second-contact task opened when needed."""
    r = tx.execute("SELECT important, number FROM customer WHERE id = :c", {"c": customer_id}).first()
    if r is not None and not r[0]:
        tx.execute("UPDATE customer SET important = 1, version = version + 1 WHERE id = :c", {"c": customer_id})
        tx.audit("customer.update", entity="customer", entity_id=customer_id, customer_id=customer_id,
                 details={"number": r[1], "changes": {"important": [False, True]}, "by": "grade.apply"})
    contact_task_in(tx, svc, customer_id, "grade")


def watch_contact_tasks(svc: Services, actor: Actor, *, cursor: str | None = None, limit: int = 50) -> cs.WatchPage:
    """R-CUST-10: open second-contact tasks, by deadline (overdue first)."""
    svc.require(actor, "customer.view")
    now = svc.now()
    with svc.store.read() as s:
        rows, nxt = cs._keyset(s, "SELECT t.due_at, t.id, t.customer_id FROM customer_contact_task t"
                               " WHERE t.done_at IS NULL", {}, cursor, "w10t", limit, "t.due_at", "t.id")
        crow = {r.id: r for r in cs._rows(s, [r[2] for r in rows])}
    out = []
    for due, _tid, cid in rows:
        if cid not in crow:
            continue
        d = cs._dt(due)
        assert d is not None
        label = (_("Second staff contact overdue since {date}", date=f"{d:%Y-%m-%d}") if d < now
                 else _("Second staff contact due by {date}", date=f"{d:%Y-%m-%d}"))
        out.append(cs.WatchRow(crow[cid], label, d))
    return cs.WatchPage(out, nxt)


def watch_owner_disabled(svc: Services, actor: Actor, *, cursor: str | None = None, limit: int = 50) -> cs.WatchPage:
    """R-CUST-10 / R-CUST-11: customers whose responsible staff member's account is disabled."""
    svc.require(actor, "customer.view")
    with svc.store.read() as s:
        rows, nxt = cs._keyset(s, "SELECT c.id, c.id FROM customer c JOIN staff st ON st.id = c.owner_id"
                               " WHERE st.active = 0 AND c.erased_at IS NULL" + pending.hide(s, "c.id"), {}, cursor,
                               "wod", limit, "c.id", "c.id")
        crow = {r.id: r for r in cs._rows(s, [r[1] for r in rows])}
    return cs.WatchPage([cs.WatchRow(crow[r[1]], _("The responsible staff member's account is disabled; hand over"))
                         for r in rows if r[1] in crow], nxt)


# ------------------------------------------------------------------------------------------------
# The archive's extra lines, home
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveExtras:
    last_inspection: str | None
    contact_task_due: datetime | None
    owner_disabled: bool = False


def archive_extras(s: Session, customer_id: int) -> ArchiveExtras:
    """For the archive view: the latest phone inspection and the open second-contact deadline."""
    r = s.execute(text("SELECT i.inspected_at, st.display_name, i.result FROM customer_phone_inspection i LEFT JOIN"
                       " staff st ON st.id = i.inspected_by_id WHERE i.customer_id = :c ORDER BY i.id DESC LIMIT 1"),
                  {"c": customer_id}).first()
    last = (_("{date} by {who}: {result}", date=str(r[0])[:10], who=r[1] or "", result=r[2] or "")
            if r is not None else None)
    t = s.execute(text("SELECT due_at FROM customer_contact_task WHERE customer_id = :c AND done_at IS NULL"),
                  {"c": customer_id}).first()
    o = s.execute(text("SELECT st.active FROM customer c JOIN staff st ON st.id = c.owner_id WHERE c.id = :c"),
                  {"c": customer_id}).first()
    return ArchiveExtras(last, cs._dt(t[0]) if t else None, o is not None and not o[0])


@register_item
def _rule_items(s: Session, actor: Actor, svc: Services) -> list[WorkItem]:
    if not actor.can("customer.view"):
        return []

    def one(sql: str, **params: Any) -> int:
        return int(s.execute(text(sql), params).scalar_one())

    now = svc.now().isoformat(sep=" ", timespec="microseconds")
    late = one("SELECT count(*) FROM customer_contact_task WHERE done_at IS NULL AND due_at < :n", n=now)
    # the filing is internal control's work (and the signers' to follow): not on every clerk's home
    concerned = any(actor.can(p) for p in ("customer.shared_phone_file", "customer.shared_phone_chief",
                                           "customer.shared_phone_deputy"))
    unfiled = one("SELECT count(*) FROM customer_phone ph WHERE " + _UNFILED) if concerned else 0
    orphaned = one("SELECT count(*) FROM customer c JOIN staff st ON st.id = c.owner_id WHERE st.active = 0"
                   " AND c.erased_at IS NULL" + pending.hide(s, "c.id"))
    # only when there is something to do: the home list is long already
    return [item for item in (
        WorkItem("customer.contact_tasks", N_("Second staff contacts of important customers overdue"), late,
                 "open('customers')", bool(late)),
        WorkItem("customer.shared_filing", N_("Shared phones to file with internal control"), unfiled,
                 "open('customers')", bool(unfiled) and actor.can("customer.shared_phone_file")),
        WorkItem("customer.owner_disabled", N_("Customers whose responsible staff member is disabled"), orphaned,
                 "open('customers')", bool(orphaned) and actor.can("customer.handover")),
    ) if item.count]

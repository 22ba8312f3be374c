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

from sqlalchemy.orm import Session

from crm_tui.domain.errors import Conflict, NotFound
from crm_tui.domain.validation import clean_text
from crm_tui.i18n import N_, _
from crm_tui.services import customers as cs
from crm_tui.services import holidays
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.services.home import WorkItem, register_item
from crm_tui.store.audit import PersonalChange
from crm_tui.store.queries import customers_lists as ql
from crm_tui.store.queries import customers_rules as qr

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
    r = qr.business_state(_sess(s), customer_id)
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
        qr.stop_business(tx.session, customer_id, clean, actor.staff_id, tx.now)
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
        qr.resume_business(tx.session, customer_id, actor.staff_id, tx.now)
        tx.audit("customer.business_resumed", entity="customer", entity_id=customer_id, customer_id=customer_id,
                 details={"number": cur["number"], "changes": {"business_stopped": [True, False]}},
                 personal=[PersonalChange("business_stop_note", cur["business_stop_note"], clean)])
        return int(cur["version"]) + 1


# ------------------------------------------------------------------------------------------------
# R-CUST-7: filing shared phones with internal control (备案)
# ------------------------------------------------------------------------------------------------

_UNFILED = ql.UNFILED


def file_shared_phone(svc: Services, actor: Actor, phone_id: int, note: str = "") -> None:
    """Internal control files (备案) a shared phone signed by the section chief and the deputy
    manager (R-CUST-7). Needs customer.shared_phone_file; never one of the signers."""
    svc.require(actor, "customer.shared_phone_file")
    clean = clean_text(note, "note", max_len=500, multiline=True)
    with svc.write(actor) as tx:
        r = ql.unfiled_phone(tx.session, phone_id)
        if r is None:
            raise NotFound("No signed shared phone awaiting filing.")
        if actor.staff_id in (r[2], r[3]):
            raise Conflict("You signed this shared phone; someone else in internal control files it.")
        ql.file_shared_phone(tx.session, phone_id, actor.staff_id, tx.now)
        tx.audit("customer.shared_phone_filed", entity="customer_phone", entity_id=phone_id, customer_id=int(r[0]),
                 details={"number": r[1], "note": clean})


def watch_shared_filing(svc: Services, actor: Actor, *, cursor: str | None = None, limit: int = 50) -> cs.WatchPage:
    """R-CUST-7: shared phones signed twice and not yet filed with internal control."""
    svc.require(actor, "customer.view")
    with svc.store.read() as s:
        rows, nxt = ql.shared_filing_page(s, cursor, limit)
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
        iid = qr.insert_inspection(tx.session, customer_id, cur["phone_inspection_since"], actor.staff_id, tx.now,
                                   clean)
        qr.clear_inspection_flag(tx.session, customer_id)
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
    return qr.active_contacts(_sess(s), customer_id)


def contact_task_in(tx: Tx, svc: Services, customer_id: int, cause: str) -> int | None:
    """Inside the caller's transaction: an important customer with fewer than two active staff in
    contact gets a task (second contact due in SECOND_CONTACT_WORKDAYS working days), unless one is
    open; a customer who has two closes its open task. Returns the new task's id, if any."""
    r = qr.contact_task_state(tx.session, customer_id)
    if r is None:
        return None
    enough = active_contacts(tx, customer_id) >= 2
    open_ = qr.open_contact_task(tx.session, customer_id)
    if open_ is not None and (enough or not r[0] or r[1] is not None):
        qr.close_contact_task(tx.session, open_, tx.now)
        tx.audit("customer.contact_task_done", entity="customer_contact_task", entity_id=open_,
                 customer_id=customer_id, details={"number": r[2]})
        return None
    if open_ is not None or enough or not r[0] or r[1] is not None:
        return None
    due = holidays.work_calendar(svc).workday_deadline(tx.now, SECOND_CONTACT_WORKDAYS)
    tid = qr.insert_contact_task(tx.session, customer_id, cause, tx.now, due)
    tx.audit("customer.contact_task", entity="customer_contact_task", entity_id=tid, customer_id=customer_id,
             details={"number": r[2], "cause": cause, "due": due.isoformat(sep=" ", timespec="minutes")})
    return tid


def became_important_in(tx: Tx, svc: Services, customer_id: int) -> None:
    """A grade whose standard requires an important customer was applied (R-CUST-10): the archive
    is marked important (audited) and the second-contact task opened when needed."""
    r = qr.importance(tx.session, customer_id)
    if r is not None and not r[0]:
        qr.mark_important(tx.session, customer_id)
        tx.audit("customer.update", entity="customer", entity_id=customer_id, customer_id=customer_id,
                 details={"number": r[1], "changes": {"important": [False, True]}, "by": "grade.apply"})
    contact_task_in(tx, svc, customer_id, "grade")


def watch_contact_tasks(svc: Services, actor: Actor, *, cursor: str | None = None, limit: int = 50) -> cs.WatchPage:
    """R-CUST-10: open second-contact tasks, by deadline (overdue first)."""
    svc.require(actor, "customer.view")
    now = svc.now()
    with svc.store.read() as s:
        rows, nxt = ql.contact_tasks_page(s, cursor, limit)
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
        rows, nxt = ql.owner_disabled_page(s, cursor, limit)
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
    r = qr.last_inspection(s, customer_id)
    last = (_("{date} by {who}: {result}", date=str(r[0])[:10], who=r[1] or "", result=r[2] or "")
            if r is not None else None)
    t = qr.open_task_due(s, customer_id)
    o = qr.owner_active(s, customer_id)
    return ArchiveExtras(last, cs._dt(t[0]) if t else None, o is not None and not o[0])


@register_item
def _rule_items(s: Session, actor: Actor, svc: Services) -> list[WorkItem]:
    if not actor.can("customer.view"):
        return []

    now = svc.now().isoformat(sep=" ", timespec="microseconds")
    late = ql.count_late_contact_tasks(s, now)
    # the filing is internal control's work (and the signers' to follow): not on every clerk's home
    concerned = any(actor.can(p) for p in ("customer.shared_phone_file", "customer.shared_phone_chief",
                                           "customer.shared_phone_deputy"))
    unfiled = ql.count_unfiled(s) if concerned else 0
    orphaned = ql.count_owner_disabled(s)
    # only when there is something to do: the home list is long already
    return [item for item in (
        WorkItem("customer.contact_tasks", N_("Second staff contacts of important customers overdue"), late,
                 "open('customers')", bool(late)),
        WorkItem("customer.shared_filing", N_("Shared phones to file with internal control"), unfiled,
                 "open('customers')", bool(unfiled) and actor.can("customer.shared_phone_file")),
        WorkItem("customer.owner_disabled", N_("Customers whose responsible staff member is disabled"), orphaned,
                 "open('customers')", bool(orphaned) and actor.can("customer.handover")),
    ) if item.count]

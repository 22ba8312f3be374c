"""What the follow-up area adds to other areas: home counts, the customer's timeline, erasure."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_tui.domain import followups as fd
from crm_tui.i18n import N_, _
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.services.customers import TimelineEntry, register_erase_hook, register_timeline_source, timeline_key
from crm_tui.services.home import WorkItem, register_item
from crm_tui.services.followups.common import _CARD_TEXT, _dt, week_bounds

# ------------------------------------------------------------------------------------------------
# Home counts and the customer's timeline
# ------------------------------------------------------------------------------------------------


@register_item
def _followup_items(s: Session, actor: Actor, svc: Services) -> list[WorkItem]:
    items: list[WorkItem] = []
    today = svc.now().date()
    covered = s.execute(text("SELECT DISTINCT absent_id FROM ab_post WHERE backup_id = :me AND revoked_at IS NULL"
                             " AND start_date <= :d AND end_date >= :d"), {"me": actor.staff_id, "d": today}).all()
    mine = json.dumps([actor.staff_id, *(int(r[0]) for r in covered)])  # and, under cover, the colleague's (R-SEC-7)
    owns = actor.staff_id is not None and s.execute(text(
        "SELECT 1 FROM followup_card WHERE owner_id IN (SELECT value FROM json_each(:mine)) AND status = 'open'"
        " LIMIT 1"), {"mine": mine}).first()
    if actor.can("followup.view") and owns:
        me = {"mine": mine, "d": today.isoformat(), "sun": week_bounds(today)[1].isoformat()}

        def n(cond: str) -> int:
            return int(s.execute(text("SELECT count(*) FROM followup_card WHERE owner_id IN"
                                      " (SELECT value FROM json_each(:mine)) AND status = 'open'"
                                      f" AND {cond}"), me).scalar_one())

        late = n("next_visit_due < :d")
        items += [
            WorkItem("followup.overdue", N_("My overdue visits"), late, "open('followups')", bool(late)),
            WorkItem("followup.due_today", N_("My visits due today"), n("next_visit_due = :d"), "open('followups')"),
            WorkItem("followup.due_week", N_("My visits due this week"),
                     n("next_visit_due > :d AND next_visit_due <= :sun"), "open('followups')"),
        ]
    if actor.can("followup.supervise"):
        mine = {"d": today.isoformat(), "me": actor.staff_id}
        waiting = int(s.execute(text("SELECT count(*) FROM followup_card WHERE reviewed_at IS NULL AND status != 'void'"
                                     " AND owner_id IS NOT :me"), mine).scalar_one())
        late = int(s.execute(text("SELECT count(*) FROM followup_card WHERE reviewed_at IS NULL AND status != 'void'"
                                  " AND owner_id IS NOT :me AND review_due < :d"), mine).scalar_one())
        claims = int(s.execute(text("SELECT count(*) FROM ownership_claim WHERE decided_at IS NULL")).scalar_one())
        items += [
            WorkItem("followup.review", N_("Cards waiting for your signature"), waiting, "open('followups')"),
            WorkItem("followup.review_late", N_("Cards unsigned past the review deadline"), late, "open('followups')",
                     bool(late)),
            WorkItem("followup.claims", N_("Ownership claims to decide"), claims, "open('followups')", bool(claims)),
        ]
    if actor.can("register.supervise"):
        missing = int(s.execute(text("SELECT count(*) FROM register_entry WHERE source IS NULL OR customer_id IS NULL"
                                     )).scalar_one())
        items.append(WorkItem("register.problems", N_("Register lines without source or archive"), missing,
                              "open('followups')"))
    return items


@register_timeline_source("followup")
def _followup_source(s: Session, customer_id: int, before: datetime | None, limit: int) -> list[TimelineEntry]:
    out: list[TimelineEntry] = []
    cards = s.execute(text(
        "SELECT f.id, f.number, f.created_at, f.intent_level, f.product, f.status, f.status_reason, f.closed_at,"
        " f.reviewed_at, f.review_comment, o.display_name, c.display_name, r.display_name FROM followup_card f"
        " JOIN staff o ON o.id = f.owner_id LEFT JOIN staff c ON c.id = f.created_by_id"
        " LEFT JOIN staff r ON r.id = f.reviewed_by_id WHERE f.customer_id = :c ORDER BY f.id DESC LIMIT :n"),
        {"c": customer_id, "n": limit}).all()
    for (cid, number, created, level, product, status, reason, closed, reviewed, comment, owner, creator,
         reviewer) in cards:
        at = _dt(created)
        assert at is not None
        body = _("Intent level {level}; consultant {owner}", level=fd.level_label(level), owner=owner)
        if product:
            body += "\n" + _("Product of interest: {text}", text=product)
        out.append(TimelineEntry(at, "followup", _("Follow-up card {number} opened", number=number), body,
                                 creator or "", timeline_key(at, "followup", cid)))
        c_at = _dt(closed)
        if c_at is not None and status != "open":
            out.append(TimelineEntry(c_at, "followup", _("Follow-up card {number}: {status}", number=number,
                                                         status=_(fd.CARD_STATUSES[status])), reason or "", owner,
                                     timeline_key(c_at, "followup-close", cid)))
        r_at = _dt(reviewed)
        if r_at is not None:
            out.append(TimelineEntry(r_at, "followup", _("Follow-up card {number} signed by the supervisor",
                                                         number=number), comment or "", reviewer or "",
                                     timeline_key(r_at, "followup-review", cid)))
    params: dict[str, Any] = {"c": customer_id, "n": limit}
    where = ""
    if before is not None:
        where = " AND v.at <= :b"
        params["b"] = before
    visits = s.execute(text(
        "SELECT v.id, v.at, v.method, v.participants, v.content, v.feedback, v.objections, v.next_action,"
        " v.level_after, v.next_due, f.number, st.display_name FROM followup_visit v"
        " JOIN followup_card f ON f.id = v.card_id LEFT JOIN staff st ON st.id = v.staff_id"
        f" WHERE f.customer_id = :c{where} ORDER BY v.at DESC, v.id DESC LIMIT :n"), params).all()
    methods = fd.load_policy().visit_methods
    for vid, at_, method, participants, content, feedback, objections, next_action, level, due, number, staff in visits:
        at = _dt(at_)
        assert at is not None
        lines = [content or _("(summary erased)")]
        if participants:
            lines.append(_("Participants: {who}", who=participants))
        if feedback:
            lines.append(_("Customer feedback: {text}", text=feedback))
        if objections:
            lines.append(_("Main objections/demands: {text}", text=objections))
        if next_action:
            lines.append(_("Next action: {text}", text=next_action))
        lines.append(_("Intent level {level}; next visit {date}", level=fd.level_label(level),
                       date=str(due)[:10] if due else "—"))
        how = methods[method].label if method in methods else method
        out.append(TimelineEntry(at, "followup", _("Visit ({method}), card {number}", method=how, number=number),
                                 "\n".join(lines), staff or "", timeline_key(at, "followup-visit", vid)))
    regs = s.execute(text("SELECT r.id, r.arrived_at, r.kind, r.product, r.summary, st.display_name FROM register_entry r"
                          " LEFT JOIN staff st ON st.id = r.created_by_id WHERE r.customer_id = :c"
                          " ORDER BY r.id DESC LIMIT :n"), {"c": customer_id, "n": limit}).all()
    for rid, at_, kind, product, summary, staff in regs:
        at = _dt(at_)
        assert at is not None
        body = "\n".join(x for x in (product and _("Product of interest: {text}", text=product), summary) if x)
        out.append(TimelineEntry(at, "register", _(fd.REGISTER_KINDS.get(kind, kind)) + " · " + _("front-desk register"),
                                 body, staff or "", timeline_key(at, "register", rid)))
    return [e for e in out if before is None or e.at <= before]


@register_erase_hook("followups")
def _erase_followups(tx: Tx, customer_id: int) -> list[str]:
    """R-CUST-13: an erased customer's cards keep their numbers, levels, dates and outcomes (for
    statistics); every free text and the register's name, phone and companions are destroyed."""
    texts = ", ".join(f"{k} = NULL" for k in (*_CARD_TEXT, "status_reason", "review_comment", "next_due_reason"))
    tx.execute(f"UPDATE followup_card SET {texts} WHERE customer_id = :c", {"c": customer_id})
    tx.execute("UPDATE followup_visit SET participants = NULL, content = NULL, feedback = NULL, objections = NULL,"
               " next_action = NULL, next_due_reason = NULL WHERE card_id IN"
               " (SELECT id FROM followup_card WHERE customer_id = :c)", {"c": customer_id})
    tx.execute("UPDATE register_entry SET name = '', phone = NULL, companions = NULL, summary = NULL"
               " WHERE customer_id = :c", {"c": customer_id})
    tx.execute("UPDATE ownership_claim SET reason = NULL, decision_note = NULL WHERE customer_id = :c",
               {"c": customer_id})
    return ["followup_card", "followup_visit", "register_entry", "ownership_claim"]

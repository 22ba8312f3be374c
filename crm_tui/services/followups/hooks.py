"""What the follow-up area adds to other areas: home counts, the customer's timeline, erasure."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from crm_tui.domain import followups as fd
from crm_tui.i18n import N_, _
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.services.customers import TimelineEntry, register_erase_hook, register_timeline_source, timeline_key
from crm_tui.services.followups.common import _CARD_TEXT, _dt, week_bounds
from crm_tui.services.home import WorkItem, register_item
from crm_tui.store.queries.followups import stats as qs

# ------------------------------------------------------------------------------------------------
# Home counts and the customer's timeline
# ------------------------------------------------------------------------------------------------


@register_item
def _followup_items(s: Session, actor: Actor, svc: Services) -> list[WorkItem]:
    items: list[WorkItem] = []
    today = svc.now().date()
    mine = [actor.staff_id, *qs.covered_ids(s, actor.staff_id, today)]  # and, under cover, the colleague's (R-SEC-7)
    owns = actor.staff_id is not None and qs.owns_open_card(s, mine)
    if actor.can("followup.view") and owns:
        d, sun = today.isoformat(), week_bounds(today)[1].isoformat()
        late = qs.count_due(s, mine, "overdue", d, sun)
        items += [
            WorkItem("followup.overdue", N_("My overdue visits"), late, "open('followups')", bool(late)),
            WorkItem("followup.due_today", N_("My visits due today"), qs.count_due(s, mine, "today", d, sun),
                     "open('followups')"),
            WorkItem("followup.due_week", N_("My visits due this week"), qs.count_due(s, mine, "week", d, sun),
                     "open('followups')"),
        ]
    if actor.can("followup.supervise"):
        waiting = qs.count_unsigned(s, actor.staff_id, today.isoformat(), late=False)
        late = qs.count_unsigned(s, actor.staff_id, today.isoformat(), late=True)
        claims = qs.count_open_claims(s)
        items += [
            WorkItem("followup.review", N_("Cards waiting for your signature"), waiting, "open('followups')"),
            WorkItem("followup.review_late", N_("Cards unsigned past the review deadline"), late, "open('followups')",
                     bool(late)),
            WorkItem("followup.claims", N_("Ownership claims to decide"), claims, "open('followups')", bool(claims)),
        ]
    if actor.can("register.supervise"):
        missing = qs.count_register_problems(s)
        items.append(WorkItem("register.problems", N_("Register lines without source or archive"), missing,
                              "open('followups')"))
    return items


@register_timeline_source("followup")
def _followup_source(s: Session, customer_id: int, before: datetime | None, limit: int) -> list[TimelineEntry]:
    out: list[TimelineEntry] = []
    cards = qs.timeline_cards(s, customer_id, limit)
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
    visits = qs.timeline_visits(s, customer_id, before, limit)
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
    regs = qs.timeline_lines(s, customer_id, limit)
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
    qs.erase_texts(tx.session, customer_id, (*_CARD_TEXT, "status_reason", "review_comment", "next_due_reason"))
    return ["followup_card", "followup_visit", "register_entry", "ownership_claim"]

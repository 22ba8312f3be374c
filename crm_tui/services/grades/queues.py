"""Reading grade changes: one application with its steps, the queues and their counts, a
customer's grade history, the home screen's work items and the customer timeline (R-CUST-14)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from crm_tui.domain.errors import ValidationError
from crm_tui.i18n import N_, _
from crm_tui.services.context import Actor, Services
from crm_tui.services.customers import TimelineEntry, register_timeline_source, timeline_key
from crm_tui.services.grades.common import (
    QUEUES, ApplicationRow, ApplicationView, Page, Step, _app, _calendar, _dt, _is_late, _me, _names,
    _period_row, _standard_in, allowed_actions,
)
from crm_tui.services.home import WorkItem, register_item
from crm_tui.store.queries import grades as q

# ------------------------------------------------------------------------------------------------
# Reading
# ------------------------------------------------------------------------------------------------


def _step_comments(s: Session, app_id: int) -> dict[int, str]:
    return q.step_comments(s, app_id)


_STEP_TITLES = {
    "grade.file": N_("Application filed"),
    "grade.approve_chief": N_("Approved by the section chief"),
    "grade.reject_chief": N_("Rejected by the section chief"),
    "grade.approve_deputy": N_("Approved by the deputy manager"),
    "grade.reject_deputy": N_("Rejected by the deputy manager"),
    "grade.apply": N_("Grade changed and filed with internal control"),
    "grade.acknowledge": N_("Filing acknowledged by internal control"),
}


def get_application(svc: Services, actor: Actor, app_id: int) -> ApplicationView:
    """One application with its steps and what the viewer may do now. Needs grade.view."""
    svc.require(actor, "grade.view", application=app_id)
    now = svc.now()
    with svc.store.read() as s:
        row = _app(s, app_id)
        filing = q.filing_ack(s, app_id)
        names = _names(s, [row["applicant_id"], row["chief_id"], row["deputy_id"], row["rejected_by_id"],
                           row["applied_by_id"], filing[0] if filing else None])
        comments = _step_comments(s, app_id)
        audit = q.application_steps(s, app_id)
        actor_names = _names(s, [a.actor_id for a in audit])
        std = _standard_in(s)
    steps = tuple(Step(a.at, _(_STEP_TITLES[a.action]), actor_names.get(a.actor_id, a.actor_name),  # type: ignore[arg-type]
                       comments.get(a.id)) for a in audit if a.action in _STEP_TITLES)
    return ApplicationView(
        id=row["id"], customer_id=row["customer_id"], customer_number=row["customer_number"],
        customer_name=row["customer_name"] if row["customer_erased_at"] is None else _("(erased)"),
        current_grade=row["current_grade"], from_grade=row["from_grade"], to_grade=row["to_grade"],
        direction=std.direction(row["from_grade"], row["to_grade"]), reason=row["reason"], evidence=row["evidence"],
        state=row["state"], applicant_id=row["applicant_id"], applicant=names.get(row["applicant_id"], ""),
        filed_at=_dt(row["filed_at"]),  # type: ignore[arg-type]
        chief=names.get(row["chief_id"]), chief_at=_dt(row["chief_at"]), chief_comment=row["chief_comment"],
        deputy=names.get(row["deputy_id"]), deputy_at=_dt(row["deputy_at"]), deputy_comment=row["deputy_comment"],
        rejected_by=names.get(row["rejected_by_id"]), rejected_at=_dt(row["rejected_at"]),
        reject_reason=row["reject_reason"], apply_due=_dt(row["apply_due"]),
        applied_by=names.get(row["applied_by_id"]), applied_at=_dt(row["applied_at"]),
        acknowledged_by=names.get(filing[0]) if filing and filing[0] else None,
        acknowledged_at=_dt(filing[1]) if filing else None, ack_note=filing[2] if filing else None,
        late=_is_late(row["state"], row["apply_due"], row["applied_at"], now), version=row["version"],
        actions=allowed_actions(actor, row), steps=steps,
    )


def _queue_where(actor: Actor, kind: str) -> q.QueueFilter | None:
    """Which applications a queue holds for ``actor``, or None when the actor has no such queue."""
    me = _me(actor)
    if kind == "approve":
        chief, deputy = actor.can("grade.approve_chief"), actor.can("grade.approve_deputy")
        return q.QueueFilter(kind, me, "asc", chief=chief, deputy=deputy) if chief or deputy else None
    if kind == "apply":
        return q.QueueFilter(kind, me, "asc") if actor.can("grade.apply_change") else None
    if kind == "acknowledge":
        if not actor.can("grade.acknowledge"):
            return None
        return q.QueueFilter(kind, me, "asc")
    if kind == "mine":
        return q.QueueFilter(kind, me, "desc")
    if kind == "all":
        return q.QueueFilter(kind, me, "desc")
    raise ValidationError("queue", "Choose one of: {options}", options=", ".join(QUEUES))


def _rows(s: Session, rows: Sequence[q.ApplicationLine], now: datetime) -> list[ApplicationRow]:
    names = _names(s, [r.applicant_id for r in rows])
    return [ApplicationRow(r.id, r.customer_id, r.customer_number, r.customer_name if not r.customer_erased
                           else _("(erased)"), r.from_grade, r.to_grade, r.state, names.get(r.applicant_id, ""),
                           r.filed_at, r.apply_due, _is_late(r.state, r.apply_due, r.applied_at, now))
            for r in rows]


def queue(svc: Services, actor: Actor, kind: str, *, cursor: str | None = None, limit: int = 50,
          customer_id: int | None = None) -> Page:
    """One page of a queue: "approve" (waiting for my approval), "apply" (approved, to apply),
    "acknowledge" (filed, to acknowledge), "mine", "all". Work queues are oldest first, the others
    newest first; page with ``cursor=page.next_cursor``. Needs grade.view."""
    svc.require(actor, "grade.view")
    f = _queue_where(actor, kind)
    if f is None:
        return Page([], None)
    limit = max(1, min(limit, 500))
    with svc.store.read() as s:
        rows = q.queue_page(s, f, limit=limit, cursor=cursor, customer_id=customer_id)
        out = _rows(s, rows[:limit], svc.now())
    return Page(out, str(out[-1].id) if len(rows) > limit else None)


def _count(s: Session, actor: Actor, kind: str, *, due_before: datetime | None = None) -> int:
    f = _queue_where(actor, kind)
    if f is None:
        return 0
    return q.queue_count(s, f, due_before=due_before)


def queue_counts(svc: Services, actor: Actor) -> dict[str, int]:
    """How many applications each of the actor's queues holds (all five kinds)."""
    svc.check_password_current(actor)
    if not actor.can("grade.view"):
        return {k: 0 for k in QUEUES}
    with svc.store.read() as s:
        return {k: _count(s, actor, k) for k in QUEUES}


def customer_history(svc: Services, actor: Actor, customer_id: int) -> list[tuple[datetime, str | None, str, str]]:
    """(when, from, to, by) of every grade the customer has had, newest first. Needs grade.view."""
    svc.require(actor, "grade.view")
    with svc.store.read() as s:
        rows = q.customer_history(s, customer_id)
        names = _names(s, [r[3] for r in rows])
    return [(r[0], r[1], r[2], names.get(r[3], "")) for r in rows]  # type: ignore[misc]


# ------------------------------------------------------------------------------------------------
# Home screen and timeline
# ------------------------------------------------------------------------------------------------


@register_item
def _home_items(s: Session, actor: Actor, svc: Services) -> list[WorkItem]:
    if not actor.can("grade.view"):
        return []
    items: list[WorkItem] = []
    if actor.can("grade.approve_chief") or actor.can("grade.approve_deputy"):
        n = _count(s, actor, "approve")
        items.append(WorkItem("grade.approve", N_("Grade changes waiting for my approval"), n, "open('grades')",
                              bool(n)))
    if actor.can("grade.apply_change"):
        n = _count(s, actor, "apply")
        late = _count(s, actor, "apply", due_before=svc.now())
        items.append(WorkItem("grade.apply", N_("Approved grade changes to apply"), n, "open('grades')", bool(n)))
        if late:
            items.append(WorkItem("grade.apply_late", N_("Grade changes not applied within 1 working day"), late,
                                  "open('grades')", True))
    if actor.can("grade.acknowledge"):
        n = _count(s, actor, "acknowledge")
        items.append(WorkItem("grade.acknowledge", N_("Grade changes filed, to acknowledge"), n, "open('grades')"))
    if actor.can("grade.review"):  # R-GRD-2: closed, or past its last day without being closed
        now = svc.now()
        cal = _calendar(svc)
        rows = [_period_row(s, i, cal) for i in q.periods_to_review(s, now.date())]
        if rows:
            late = any(p.review_due is not None and p.review_due < now for p in rows)
            items.append(WorkItem("grade.review", N_("Grade review periods to review"), len(rows), "open('grades')",
                                  late))
    return items


@register_timeline_source("grades")
def _timeline_source(s: Session, customer_id: int, before: datetime | None, limit: int) -> list[TimelineEntry]:
    rows = q.timeline_audit(s, customer_id, list(_STEP_TITLES), before, limit)
    if not rows:
        return []
    texts = q.audit_texts(s, [r.id for r in rows])
    names = _names(s, [r.actor_id for r in rows])
    std = _standard_in(s)
    out = []
    for r in rows:
        audit_id, at_, actor_id, actor_name, action, details_json = r.id, r.at, r.actor_id, r.actor_name, r.action, \
            r.details
        d = json.loads(details_json or "{}")
        lines = [_("Application #{id}: {old} → {new}", id=d.get("application"),
                   old=std.label(d.get("from") if "from" in d else (d.get("changes") or {}).get("grade", [None])[0]),
                   new=std.label(d.get("to") if "to" in d else (d.get("changes") or {}).get("grade", [None, None])[1]))]
        vals = texts.get(audit_id, {})
        if vals.get("reason"):
            lines.append(_("Reason: {reason}", reason=vals["reason"]))
        if vals.get("comment"):
            lines.append(_("Comment: {comment}", comment=vals["comment"]))
        if d.get("apply_due"):
            lines.append(_("To apply by {due}", due=d["apply_due"]))
        if d.get("late"):
            lines.append(_("Applied after the deadline"))
        assert at_ is not None
        out.append(TimelineEntry(at_, "grade", _(_STEP_TITLES[action]), "\n".join(lines),
                                 names.get(actor_id, actor_name), timeline_key(at_, "grade", audit_id)))
    return out


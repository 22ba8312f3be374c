"""The contact plan (R-GRD-1: the grade decides how often the customer is contacted)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from crm_tui.services.context import Actor, Services
from crm_tui.services.grades.common import _names, _standard_in
from crm_tui.store.queries import grades as q

# ------------------------------------------------------------------------------------------------
# The contact plan (R-GRD-1: the grade decides how often the customer is contacted)
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactDue:
    customer_id: int
    number: str
    name: str
    grade: str
    grade_label: str
    owner: str
    last_contact: datetime | None
    due: date
    days_over: int  # > 0: overdue by that many days; 0: due today; < 0: due later


def contact_plan(svc: Services, actor: Actor, *, due_only: bool = True, owner_id: int | None = None,
                 customer_id: int | None = None, limit: int = 500) -> list[ContactDue]:
    """R-GRD-1: the next contact of every graded customer is due ``contact_days`` (of the grade in
    the standard in force) after the last contact. ``due_only``: those due today or overdue, most
    overdue first; else every graded customer by due date. A customer manager (grade.apply without
    grade.review) sees his own customers. Needs grade.view."""
    svc.require(actor, "grade.view")
    today = svc.now().date()
    if not actor.can("grade.review") and actor.can("grade.apply") and owner_id is None:
        owner_id = actor.on_behalf_of or actor.staff_id  # under A/B cover: the absent colleague's
    out: list[ContactDue] = []
    with svc.store.read() as s:
        std = _standard_in(s)
        rows = q.last_contacts(s, customer_id=customer_id, owner_id=owner_id)
        names = _names(s, [r.owner_id for r in rows])
    for r in rows:
        cid, number, name, grade, owner, created, last_dt = r.customer_id, r.number, r.name, r.grade, r.owner_id, \
            r.created_at, r.last
        days = std.contact_days(grade)
        if days is None:
            continue
        since = (last_dt or created).date()
        due = date.fromordinal(since.toordinal() + days)
        over = (today - due).days
        if due_only and over < 0:
            continue
        out.append(ContactDue(int(cid), number, name, grade, std.label(grade), names.get(owner, "") if owner else "",
                              last_dt, due, over))
    out.sort(key=lambda d: (d.due, d.number))
    return out[:max(1, min(limit, 5000))]


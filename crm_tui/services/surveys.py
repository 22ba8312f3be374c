"""Periodic satisfaction surveys (issue 20: R-CUST-15).

Each customer of the surveyed categories is due a survey (满意度调查) a number of days after the last
one, by grade (data/customer_care.toml ``[surveys]``); without a survey yet, counted from the
archive's creation. ``due_list`` lists the customers due or overdue, the oldest first; recording a
survey (``complaints.add_feedback`` with kind "survey", the archive's Ctrl+B) takes the customer off
the list until the next one falls due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from crm_tui.domain import config
from crm_tui.i18n import N_, _
from crm_tui.services import customers as cs
from crm_tui.services.context import Actor, Services
from crm_tui.services.home import WorkItem, register_item
from crm_tui.store.queries import surveys as qs

__all__ = ["Cadence", "cadence", "due_count", "due_list"]


@dataclass(frozen=True)
class Cadence:
    categories: tuple[str, ...]
    default_days: int
    by_grade: dict[str, int]

    def days(self, grade: str | None) -> int:
        return self.by_grade.get(grade or "", self.default_days)


def cadence() -> Cadence:
    raw = config.load("customer_care.toml")["surveys"]
    by_grade = {str(k): int(v) for k, v in raw.get("cadence_days", {}).items()}
    if int(raw["default_days"]) < 1 or any(v < 1 for v in by_grade.values()):
        raise ValueError("data/customer_care.toml: survey intervals are at least one day")
    return Cadence(tuple(raw.get("categories", ())), int(raw["default_days"]), by_grade)


def due_list(svc: Services, actor: Actor, *, cursor: str | None = None, limit: int = 50) -> cs.WatchPage:
    """R-CUST-15: customers whose satisfaction survey is due or overdue (due day on or before
    today, by the injected clock), the longest overdue first."""
    svc.require(actor, "customer.view")
    today = svc.now().date()
    c = cadence()
    with svc.store.read() as s:
        rows, nxt = qs.due_page(s, today.isoformat(), c.default_days, c.by_grade, c.categories, cursor, limit)
        crow = {r.id: r for r in cs._rows(s, [r[1] for r in rows])}
    out = []
    for due, cid, last, days in rows:
        if cid not in crow:
            continue
        due_d = date.fromisoformat(str(due))
        if last:
            why = _("Last survey {date}; every {days} days", date=str(last)[:10], days=days)
        else:
            why = _("No survey yet; every {days} days", days=days)
        if due_d < today:
            why += _("; due since {date}", date=due_d.isoformat())
        out.append(cs.WatchRow(crow[cid], why, due_d, item_id=int(cid)))
    return cs.WatchPage(out, nxt)


def _count(s: Session, today: date) -> int:
    c = cadence()
    return qs.due_count(s, today.isoformat(), c.default_days, c.by_grade, c.categories)


def due_count(svc: Services, actor: Actor) -> int:
    svc.require(actor, "customer.view")
    with svc.store.read() as s:
        return _count(s, svc.now().date())


@register_item
def _survey_items(s: Session, actor: Actor, svc: Services) -> list[WorkItem]:
    if not actor.can("feedback.create"):
        return []
    n = _count(s, svc.now().date())
    return [WorkItem("customer.survey_due", N_("Customers due a satisfaction survey"), n, "open('customers')")] if n else []

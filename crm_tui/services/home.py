"""Today's work for the home screen: each area registers a function that counts its queue items.

An item is shown only to those who can act on it; areas register with ``register_item``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_tui.i18n import N_
from crm_tui.services.context import Actor, Services


@dataclass(frozen=True)
class WorkItem:
    key: str           # stable id, e.g. "followup.due_today"
    label: str         # English msgid
    count: int
    action: str | None  # app action that opens the queue, e.g. "open('followups')"
    urgent: bool = False


Counter = Callable[[Session, Actor, Services], list[WorkItem]]
_REGISTRY: list[Counter] = []
# Modules whose import registers their counters; each area adds its services module here.
AREA_MODULES = (
    "crm_tui.services.customers",
    "crm_tui.services.customer_rules",  # issue 20: R-CUST-3, -7, -8, -10 lists and home counts
    "crm_tui.services.backup",
    "crm_tui.services.importing",  # registers the import's timeline source
    "crm_tui.services.followups",
    "crm_tui.services.grades",
    "crm_tui.services.complaints",
    "crm_tui.services.holidays",  # the holiday schedule's coverage warning (issue 16)
    "crm_tui.services.approvals",  # the approvers' queue count (R-SEC-2)
    "crm_tui.services.incidents",  # erase hook of incident notices (R-SEC-6)
    "crm_tui.services.frontdesk",  # new phones awaiting the owner's confirmation (issue 21)
    "crm_tui.services.consent",  # changes still to be told to the customer (R-CUST-5)
    "crm_tui.services.surveys",  # satisfaction surveys due (R-CUST-15)
)


def register_item(counter: Counter) -> Counter:
    _REGISTRY.append(counter)
    return counter


def load_areas() -> None:
    """Import every area's services module, so their counters, timeline sources and erase hooks
    are registered (each import runs once)."""
    import importlib

    for name in AREA_MODULES:
        importlib.import_module(name)


def _area_order(counter: Counter) -> int:
    """The home screen's own items first, then the areas in AREA_MODULES order (a package's
    modules count as the package): the registry fills in import order, which depends on which
    screen or service was used first."""
    mod = counter.__module__
    for i, area in enumerate(AREA_MODULES):
        if mod == area or mod.startswith(area + "."):  # an area split into a package: its modules
            return i + 1
    return 0


def today(svc: Services, actor: Actor) -> list[WorkItem]:
    svc.check_password_current(actor)
    load_areas()
    items: list[WorkItem] = []
    with svc.store.read() as s:
        for counter in sorted(_REGISTRY, key=_area_order):  # stable: a module's own order stays
            items.extend(counter(s, actor, svc))
    return items


@register_item
def _staff_items(s: Session, actor: Actor, svc: Services) -> list[WorkItem]:
    if not actor.can("staff.manage"):
        return []
    locked = s.execute(text("SELECT count(*) FROM staff WHERE active AND locked_until > :now"),
                       {"now": svc.now()}).scalar_one()
    first = s.execute(text("SELECT count(*) FROM staff WHERE active AND must_change_password")).scalar_one()
    return [
        WorkItem("staff.locked", N_("Accounts locked after wrong passwords"), int(locked), "open('staff')", bool(locked)),
        WorkItem("staff.first_login", N_("Accounts not yet signed in (one-time password)"), int(first), "open('staff')"),
    ]


@register_item
def _cover_items(s: Session, actor: Actor, svc: Services) -> list[WorkItem]:
    today_ = svc.now().date()
    n = s.execute(text("SELECT count(*) FROM ab_post WHERE backup_id = :me AND revoked_at IS NULL"
                       " AND start_date <= :d AND end_date >= :d"), {"me": actor.staff_id, "d": today_}).scalar_one()
    if not n:
        return []
    return [WorkItem("staff.cover", N_("Colleagues you cover for today (A/B post)"), int(n), "cover", True)]

"""The supervisor's daily check of the front-desk register (R-FU-4): "no visitor goes unregistered".

For one day, every follow-up visit and contact-log entry made by a method that brings the customer
to the branch or the phone (data/intent_levels.toml [register_check]), and every card opened that
day, must match a line of the register (来店/来电登记表) of the same day for the same customer (a card
may also name its line). What has none is listed; the supervisor resolves each item by linking it
to a register line of that day (a line without an archive is tied to the customer) or by marking it
with a reason (e.g. "the consultant phoned the customer; not a visitor"). Both are audited.

Needs register.supervise (section chief, deputy manager).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import text

from crm_tui.domain import config
from crm_tui.domain import followups as fd
from crm_tui.domain.customers import load_policy as customer_policy
from crm_tui.domain.errors import Conflict, NotFound, ValidationError, ValidationErrors
from crm_tui.domain.validation import clean_text
from crm_tui.i18n import N_, _
from crm_tui.services.context import Actor, Services, Tx

__all__ = ["KINDS", "UnregisteredItem", "day_lines", "resolve", "unregistered"]

#: What the check lists; kind -> label msgid.
KINDS: dict[str, str] = {
    "visit": N_("Follow-up visit"),
    "card": N_("Card opened"),
    "contact": N_("Contact log"),
}


@dataclass(frozen=True)
class UnregisteredItem:
    kind: str
    ref_id: int
    at: datetime
    customer_id: int
    customer_number: str
    customer_name: str
    staff: str
    method: str  # shown label
    resolved: bool = False
    register_id: int | None = None
    reason: str = ""
    resolved_by: str = ""

    @property
    def kind_label(self) -> str:
        return _(KINDS[self.kind])


def _methods() -> tuple[list[str], list[str]]:
    raw = config.load("intent_levels.toml").get("register_check", {})
    return list(raw.get("visit_methods", ["store"])), list(raw.get("contact_methods", ["visit"]))


def _bounds(day: date) -> dict[str, str]:
    return {"a": day.isoformat(), "b": (day + timedelta(days=1)).isoformat()}


def _in(prefix: str, codes: list[str]) -> tuple[str, dict[str, str]]:
    names = {f"{prefix}{i}": c for i, c in enumerate(codes)}
    return (", ".join(":" + k for k in names) or "NULL"), names


#: A register line of the same day for the same customer.
_HAS_LINE = ("EXISTS (SELECT 1 FROM register_entry r WHERE r.customer_id = {cust} AND r.arrived_at >= :a"
             " AND r.arrived_at < :b)")
#: Listed: no line, or resolved already (kept in the list as done).
_LISTED = ("(NOT " + _HAS_LINE + " OR EXISTS (SELECT 1 FROM register_check x WHERE x.kind = '{kind}'"
           " AND x.ref_id = {ref}))")


def _items(s: Any, day: date) -> list[UnregisteredItem]:
    visit_methods, contact_methods = _methods()
    vin, vparams = _in("vm", visit_methods)
    kin, kparams = _in("km", contact_methods)
    params = {**_bounds(day), **vparams, **kparams}
    sql = (
        "SELECT 'visit', v.id, v.at, c.id, c.number, c.name, st.display_name, v.method FROM followup_visit v"
        " JOIN followup_card fc ON fc.id = v.card_id JOIN customer c ON c.id = fc.customer_id"
        " LEFT JOIN staff st ON st.id = v.staff_id"
        f" WHERE v.at >= :a AND v.at < :b AND v.method IN ({vin}) AND {_LISTED.format(cust='c.id', kind='visit', ref='v.id')}"
        " UNION ALL "
        "SELECT 'card', fc.id, fc.created_at, c.id, c.number, c.name, st.display_name, fc.number FROM followup_card fc"
        " JOIN customer c ON c.id = fc.customer_id LEFT JOIN staff st ON st.id = fc.owner_id"
        " WHERE fc.created_at >= :a AND fc.created_at < :b"
        " AND (fc.register_id IS NULL OR EXISTS (SELECT 1 FROM register_check y WHERE y.kind = 'card'"
        " AND y.ref_id = fc.id))"
        f" AND {_LISTED.format(cust='c.id', kind='card', ref='fc.id')}"
        " UNION ALL "
        "SELECT 'contact', k.id, k.at, c.id, c.number, c.name, st.display_name, k.method FROM customer_contact k"
        " JOIN customer c ON c.id = k.customer_id LEFT JOIN staff st ON st.id = k.staff_id"
        f" WHERE k.at >= :a AND k.at < :b AND k.method IN ({kin})"
        f" AND {_LISTED.format(cust='c.id', kind='contact', ref='k.id')}"
        " ORDER BY 3, 1, 2")
    vlabels = fd.load_policy().visit_methods
    klabels = customer_policy().contact_methods
    out: list[UnregisteredItem] = []
    checks = {(r[0], int(r[1])): r for r in s.execute(text(
        "SELECT rc.kind, rc.ref_id, rc.register_id, rc.reason, st.display_name FROM register_check rc"
        " LEFT JOIN staff st ON st.id = rc.resolved_by_id WHERE rc.day = :d"), {"d": day.isoformat()})}
    for kind, ref, at, cid, number, name, staff, method in s.execute(text(sql), params):
        opt = vlabels.get(method) if kind == "visit" else klabels.get(method) if kind == "contact" else None
        label = opt.label if opt else method  # a card: its number
        chk = checks.get((kind, int(ref)))
        out.append(UnregisteredItem(kind, int(ref), at if isinstance(at, datetime) else datetime.fromisoformat(str(at)),
                                    int(cid), number, name, staff or "", label, chk is not None,
                                    chk[2] if chk else None, (chk[3] or "") if chk else "", (chk[4] or "") if chk else ""))
    return out


def unregistered(svc: Services, actor: Actor, day: date | None = None, *, include_resolved: bool = True
                 ) -> list[UnregisteredItem]:
    """The day's visits, cards and contacts without a register line (default: today), oldest first;
    resolved ones are kept in the list (``resolved``) unless ``include_resolved`` is False."""
    svc.require(actor, "register.supervise")
    d = day or svc.now().date()
    with svc.store.read() as s:
        items = _items(s, d)
    return [i for i in items if include_resolved or not i.resolved]


def day_lines(svc: Services, actor: Actor, day: date) -> list[tuple[int, str]]:
    """The register lines of ``day`` to link an item to: (id, "HH:MM name (archive)")."""
    svc.require(actor, "register.supervise")
    with svc.store.read() as s:
        rows = s.execute(text(
            "SELECT r.id, r.arrived_at, r.name, c.number FROM register_entry r LEFT JOIN customer c"
            " ON c.id = r.customer_id WHERE r.arrived_at >= :a AND r.arrived_at < :b ORDER BY r.arrived_at, r.id"),
            _bounds(day)).all()
    return [(int(r[0]), f"{str(r[1])[11:16]} {r[2]}" + (f" ({r[3]})" if r[3] else "")) for r in rows]


def resolve(svc: Services, actor: Actor, kind: str, ref_id: int, day: date, *, register_id: int | str | None = None,
            reason: str = "") -> None:
    """Resolve one listed item: link it to a register line of that day (``register_id``; a line
    without an archive is tied to the item's customer, a card also records the line), or mark it
    with a ``reason``. Exactly one of the two. Audited; nothing written on a refusal."""
    svc.require(actor, "register.supervise")
    if kind not in KINDS:
        raise ValidationErrors([ValidationError("kind", "Choose one of: {options}", options=", ".join(KINDS))])
    line: int | None = None
    raw_line = str(register_id).strip() if register_id is not None else ""
    clean_reason = None
    errors: list[ValidationError] = []
    if raw_line:
        if not raw_line.isdigit():
            errors.append(ValidationError("register_id", "Give the number of a register line of that day"))
        else:
            line = int(raw_line)
    try:
        clean_reason = clean_text(reason, "reason", max_len=500, required=False, multiline=False)
    except ValidationError as e:
        errors.append(e)
    if not errors and (line is None) == (clean_reason is None):
        errors.append(ValidationError("reason", "Either link a register line or write why there is none"))
    if clean_reason is not None and len(clean_reason) < 4 and not errors:
        errors.append(ValidationError("reason", "Write the reason (at least {n} characters)", n=4))
    if errors:
        raise ValidationErrors(errors)
    with svc.write(actor) as tx:
        item = next((i for i in _items(tx.session, day) if i.kind == kind and i.ref_id == ref_id), None)
        if item is None:
            raise NotFound("Nothing of {day} to check with that number.", day=day.isoformat())
        if item.resolved:
            raise Conflict(N_("This item was already resolved by {name}."), name=item.resolved_by or "—")
        if line is not None:
            _link(tx, item, line, day)
        tx.execute("INSERT INTO register_check (kind, ref_id, customer_id, day, register_id, reason, resolved_at,"
                   " resolved_by_id) VALUES (:k, :r, :c, :d, :l, :why, :now, :by)",
                   {"k": kind, "r": ref_id, "c": item.customer_id, "d": day.isoformat(), "l": line,
                    "why": clean_reason, "now": tx.now, "by": actor.staff_id})
        tx.audit("register.check_resolve", entity="register_check", entity_id=f"{kind}:{ref_id}",
                 customer_id=item.customer_id,
                 details={"day": day.isoformat(), "kind": kind, "register_line": line, "reason": clean_reason})


def _link(tx: Tx, item: UnregisteredItem, line: int, day: date) -> None:
    r = tx.execute("SELECT customer_id, arrived_at FROM register_entry WHERE id = :i", {"i": line}).first()
    if r is None or not str(r[1]).startswith(day.isoformat()):
        raise ValidationErrors([ValidationError("register_id", "Register line {id} is not a line of {day}",
                                                id=line, day=day.isoformat())])
    if r[0] is not None and int(r[0]) != item.customer_id:
        raise ValidationErrors([ValidationError("register_id", "Register line {id} belongs to another customer",
                                                id=line)])
    if r[0] is None:
        tx.execute("UPDATE register_entry SET customer_id = :c WHERE id = :i", {"c": item.customer_id, "i": line})
        tx.execute("UPDATE audit_value SET customer_id = :c WHERE customer_id IS NULL AND audit_id IN"
                   " (SELECT id FROM audit_log WHERE entity = 'register_entry' AND entity_id = :e)",
                   {"c": item.customer_id, "e": str(line)})
        tx.audit("register.link", entity="register_entry", entity_id=line, customer_id=item.customer_id,
                 details={"customer": item.customer_number, "changes": {"customer_id": [None, item.customer_id]}})
    if item.kind == "card":
        tx.execute("UPDATE followup_card SET register_id = :l WHERE id = :i AND register_id IS NULL",
                   {"l": line, "i": item.ref_id})


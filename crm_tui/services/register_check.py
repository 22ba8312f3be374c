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

from sqlalchemy.orm import Session

from crm_tui.domain import config
from crm_tui.domain import followups as fd
from crm_tui.domain.customers import load_policy as customer_policy
from crm_tui.domain.errors import Conflict, NotFound, ValidationError, ValidationErrors
from crm_tui.domain.validation import clean_text
from crm_tui.i18n import N_, _
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.store.queries.followups import register as qr

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


def _bounds(day: date) -> tuple[str, str]:
    return day.isoformat(), (day + timedelta(days=1)).isoformat()


def _items(s: Session, day: date) -> list[UnregisteredItem]:
    visit_methods, contact_methods = _methods()
    vlabels = fd.load_policy().visit_methods
    klabels = customer_policy().contact_methods
    out: list[UnregisteredItem] = []
    checks = qr.resolutions(s, day.isoformat())
    for kind, ref, at, cid, number, name, staff, method in qr.unregistered(s, _bounds(day), visit_methods,
                                                                            contact_methods):
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
        rows = qr.day_lines(s, _bounds(day))
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
        qr.insert_resolution(tx.session, kind=kind, ref_id=ref_id, customer_id=item.customer_id, day=day.isoformat(),
                             register_id=line, reason=clean_reason, now=tx.now, by=actor.staff_id)
        tx.audit("register.check_resolve", entity="register_check", entity_id=f"{kind}:{ref_id}",
                 customer_id=item.customer_id,
                 details={"day": day.isoformat(), "kind": kind, "register_line": line, "reason": clean_reason})


def _link(tx: Tx, item: UnregisteredItem, line: int, day: date) -> None:
    r = qr.line_customer_arrival(tx.session, line)
    if r is None or not str(r[1]).startswith(day.isoformat()):
        raise ValidationErrors([ValidationError("register_id", "Register line {id} is not a line of {day}",
                                                id=line, day=day.isoformat())])
    if r[0] is not None and int(r[0]) != item.customer_id:
        raise ValidationErrors([ValidationError("register_id", "Register line {id} belongs to another customer",
                                                id=line)])
    if r[0] is None:
        qr.set_customer(tx.session, line, item.customer_id)
        qr.tie_audit_values(tx.session, line, item.customer_id)
        tx.audit("register.link", entity="register_entry", entity_id=line, customer_id=item.customer_id,
                 details={"customer": item.customer_number, "changes": {"customer_id": [None, item.customer_id]}})
    if item.kind == "card":
        qr.set_card_line_if_unset(tx.session, item.ref_id, line)


"""The incident register (R-SEC-6): a leak or loss is recorded (what happened, when it was found),
its affected customers are chosen by a search or a list of customer numbers and kept as a list,
the measures taken are written down as they happen, each customer's notice is recorded (who told
them, when, how), and the incident is closed with a report. Needs incident.manage; every step is
audited."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from crm_tui.domain import masking
from crm_tui.domain.errors import Conflict, NotFound, ValidationError, ValidationErrors
from crm_tui.domain.validation import clean_text
from crm_tui.i18n import N_, _
from crm_tui.services.context import PERMISSION_LABELS, Actor, Services, Tx
from crm_tui.services.customers import register_erase_hook
from crm_tui.store.queries import incidents as q

PERMISSION_LABELS.setdefault("incident.manage", N_("keep the incident register"))

STATE_LABELS = {"open": N_("open"), "closed": N_("closed")}


@dataclass(frozen=True)
class IncidentRow:
    id: int
    title: str
    found_at: datetime
    state: str
    affected: int
    notified: int

    @property
    def state_label(self) -> str:
        return _(STATE_LABELS.get(self.state, self.state))


@dataclass(frozen=True)
class AffectedCustomer:
    customer_id: int
    number: str
    name: str
    notified_at: datetime | None
    notified_by: str | None
    notice_method: str | None
    notice_note: str | None


@dataclass(frozen=True)
class IncidentView:
    id: int
    title: str
    description: str
    found_at: datetime
    measures: str | None
    state: str
    query: str | None
    report: str | None
    created_at: datetime
    created_by: str | None
    closed_at: datetime | None
    closed_by: str | None
    affected: list[AffectedCustomer]

    @property
    def state_label(self) -> str:
        return _(STATE_LABELS.get(self.state, self.state))

    @property
    def notified(self) -> int:
        return sum(1 for a in self.affected if a.notified_at is not None)


def _dt(v: object) -> datetime | None:
    if v is None or isinstance(v, datetime):
        return v
    return datetime.fromisoformat(str(v))


def parse_time(raw: str | datetime, field: str) -> datetime:
    """``YYYY-MM-DD HH:MM`` (or a date alone, meaning midnight)."""
    if isinstance(raw, datetime):
        return raw
    try:
        return datetime.fromisoformat((raw or "").strip())
    except ValueError:
        raise ValidationError(field, "Give a date and time as YYYY-MM-DD HH:MM") from None


def _checked(svc: Services, when: str, checks: Iterable[tuple[str, Callable[[], object]]]) -> dict[str, object]:
    """Run each field's check, collecting every refusal, and refuse a time ``when`` later than now;
    nothing is written while any field is refused."""
    errors: list[ValidationError] = []
    vals: dict[str, object] = {}
    for field, fn in checks:
        try:
            vals[field] = fn()
        except ValidationError as e:
            errors.append(e)
    if when in vals:
        try:
            _not_future(vals[when], svc.now(), when)  # type: ignore[arg-type]
        except ValidationError as e:
            errors.append(e)
    if errors:
        raise ValidationErrors(errors)
    return vals


def _not_future(at: datetime, now: datetime, field: str) -> None:
    if at > now:
        raise ValidationError(field, "This time is in the future")


def _open_incident(tx: Tx, incident_id: int) -> None:
    state = q.state_of(tx.session, incident_id)
    if state is None:
        raise NotFound("No incident {id}.", id=incident_id)
    if state != "open":
        raise Conflict("Incident {id} is closed; nothing was changed.", id=incident_id)


def new_incident(svc: Services, actor: Actor, title: str, description: str, found_at: str | datetime,
                 measures: str = "") -> int:
    """Record a leak or loss: what happened and when it was found. Returns the incident id."""
    svc.require(actor, "incident.manage")
    vals = _checked(svc, "found_at", (
        ("title", lambda: clean_text(title, "title", max_len=200, required=True)),
        ("description", lambda: clean_text(description, "description", max_len=5000, required=True,
                                           multiline=True)),
        ("measures", lambda: clean_text(measures, "measures", max_len=5000, multiline=True) or None),
        ("found_at", lambda: parse_time(found_at, "found_at"))))
    with svc.write(actor) as tx:
        iid = q.insert_incident(tx.session, vals["title"], vals["description"], vals["found_at"], vals["measures"],
                                tx.now, actor.staff_id)
        tx.audit("incident.new", entity="incident", entity_id=iid,
                 details={"title": vals["title"], "found_at": str(vals["found_at"])})
    return iid


def add_measures(svc: Services, actor: Actor, incident_id: int, measures: str) -> None:
    """Add what was done (stopping the leak, investigating) to the incident, with the time."""
    svc.require(actor, "incident.manage")
    clean = clean_text(measures, "measures", max_len=5000, required=True, multiline=True)
    with svc.write(actor) as tx:
        _open_incident(tx, incident_id)
        old = q.measures_of(tx.session, incident_id)
        line = f"[{tx.now:%Y-%m-%d %H:%M} {actor.display_name}] {clean}"
        q.set_measures(tx.session, incident_id, f"{old}\n{line}" if old else line)
        tx.audit("incident.measures", entity="incident", entity_id=incident_id, details={"measures": clean})


def set_affected(svc: Services, actor: Actor, incident_id: int, *, query: str | None = None,
                 numbers: Sequence[str] = ()) -> int:
    """Add the customers the incident affects, chosen by a search (as in the customer list) and/or
    by customer numbers; they are kept as a list. Returns how many were added."""
    from crm_tui.services import customers as cs

    svc.require(actor, "incident.manage")
    wanted = [n.strip() for n in numbers if n and n.strip()]
    if not (query and query.strip()) and not wanted:
        raise ValidationError("query", "Give a search or customer numbers")
    ids: list[int] = []
    if query and query.strip():
        cursor = None
        while True:
            page = cs.search(svc, actor, query.strip(), cursor=cursor, limit=500)
            ids += [r.id for r in page.rows if not r.erased]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    with svc.write(actor) as tx:
        _open_incident(tx, incident_id)
        unknown = []
        for n in wanted:
            cid = q.customer_id_by_number(tx.session, n)
            if cid is None:
                unknown.append(n)
            else:
                ids.append(cid)
        if unknown:
            raise ValidationError("numbers", "No customer numbered {number}.", number=", ".join(unknown))
        before = q.affected_count(tx.session, incident_id)
        if ids:
            q.add_affected(tx.session, incident_id, dict.fromkeys(ids))
        after = q.affected_count(tx.session, incident_id)
        how = "; ".join(filter(None, [f"query: {query.strip()}" if query and query.strip() else None,
                                      f"numbers: {', '.join(wanted)}" if wanted else None]))
        old = q.query_of(tx.session, incident_id)
        q.set_query(tx.session, incident_id, f"{old}\n{how}" if old else how)
        tx.audit("incident.affected", entity="incident", entity_id=incident_id,
                 details={"added": after - before, "total": after, "by_query": bool(query and query.strip()),
                          "numbers": wanted})
    return int(after - before)


def record_notice(svc: Services, actor: Actor, incident_id: int, number: str, *, told_by: str,
                  told_at: str | datetime, method: str, note: str = "") -> None:
    """One affected customer was told: who told them, when and how."""
    svc.require(actor, "incident.manage")
    vals = _checked(svc, "told_at", (
        ("told_by", lambda: clean_text(told_by, "told_by", max_len=60, required=True)),
        ("method", lambda: clean_text(method, "method", max_len=100, required=True)),
        ("note", lambda: clean_text(note, "note", max_len=1000, multiline=True) or None),
        ("told_at", lambda: parse_time(told_at, "told_at"))))
    with svc.write(actor) as tx:
        _open_incident(tx, incident_id)
        cid = q.affected_customer_id(tx.session, incident_id, number.strip())
        if cid is None:
            raise ValidationError("number", "Customer {number} is not on this incident's list.", number=number)
        q.record_notice(tx.session, incident_id, cid, at=vals["told_at"], told_by=vals["told_by"],
                        method=vals["method"], note=vals["note"], recorded_by=actor.staff_id)
        tx.audit("incident.notice", entity="incident", entity_id=incident_id, customer_id=cid,
                 details={"number": number.strip(), "told_by": vals["told_by"], "told_at": str(vals["told_at"]),
                          "method": vals["method"]})


def close(svc: Services, actor: Actor, incident_id: int, report: str) -> None:
    """Close the incident with its report (what happened, cause, measures, who was told)."""
    svc.require(actor, "incident.manage")
    clean = clean_text(report, "report", max_len=20000, required=True, multiline=True)
    with svc.write(actor) as tx:
        _open_incident(tx, incident_id)
        left = q.close_incident(tx.session, incident_id, clean, tx.now, actor.staff_id)
        tx.audit("incident.close", entity="incident", entity_id=incident_id, details={"not_notified": left})


def list_incidents(svc: Services, actor: Actor, *, limit: int = 200) -> list[IncidentRow]:
    svc.require(actor, "incident.manage")
    with svc.store.read() as s:
        rows = q.incidents(s, limit)
    return [IncidentRow(r.id, _scrub(r.title), _dt(r.found_at), r.state, r.affected, r.notified)  # type: ignore[arg-type]
            for r in rows]


def _scrub(value: str | None) -> str | None:
    """The register's free text (title, description, measures, the query that chose the affected
    customers, notices, the report) may quote a customer's phone or ID number: masked for every
    reader, as in the audit trail (domain.masking)."""
    return masking.GENERIC.text(value) if value else value


def get_incident(svc: Services, actor: Actor, incident_id: int) -> IncidentView:
    svc.require(actor, "incident.manage")
    with svc.store.read() as s:
        r = q.incident(s, incident_id)
        if r is None:
            raise NotFound("No incident {id}.", id=incident_id)
        aff = q.affected(s, incident_id)
    affected = [AffectedCustomer(a.customer_id, a.number, a.name if a.erased_at is None else _("(erased)"),
                                 _dt(a.notified_at), a.notified_by, _scrub(a.notice_method), _scrub(a.notice_note))
                for a in aff]
    return IncidentView(r.id, _scrub(r.title), _scrub(r.description), _dt(r.found_at),  # type: ignore[arg-type]
                        _scrub(r.measures), r.state, _scrub(r.query), _scrub(r.report), _dt(r.created_at),
                        r.created_by, _dt(r.closed_at), r.closed_by, affected)


def report_text(svc: Services, actor: Actor, incident_id: int) -> str:
    """The incident as plain text: what, when, measures, affected customers and their notices, and
    the closing report."""
    v = get_incident(svc, actor, incident_id)
    lines = [_("Incident {id}: {title}", id=v.id, title=v.title),
             _("State: {state}", state=v.state_label),
             _("Found: {at}", at=f"{v.found_at:%Y-%m-%d %H:%M}"),
             _("Recorded by {name} on {at}", name=v.created_by or "-", at=f"{v.created_at:%Y-%m-%d %H:%M}"),
             "", _("What happened"), v.description, "", _("Measures"), v.measures or "-", "",
             _("Affected customers: {n}, told: {k}", n=len(v.affected), k=v.notified)]
    for a in v.affected:
        told = (_("told {at} by {who} ({how})", at=f"{a.notified_at:%Y-%m-%d %H:%M}", who=a.notified_by or "-",
                  how=a.notice_method or "-") if a.notified_at else _("not told yet"))
        lines.append(f"  {a.number}  {a.name}  {told}")
    if v.state == "closed":
        lines += ["", _("Closed by {name} on {at}", name=v.closed_by or "-", at=f"{v.closed_at:%Y-%m-%d %H:%M}"),
                  _("Report"), v.report or ""]
    return "\n".join(lines) + "\n"


@register_erase_hook("incidents")
def _erase(tx: Tx, customer_id: int) -> list[str]:
    """The notice's free text goes with the customer; that they were told, when and how stays."""
    n = q.erase_notice_notes(tx.session, customer_id)
    return ["incident notice"] if n else []

"""The workflow steps of a ticket (R-CMP-2, R-CMP-4, R-CMP-5, R-CMP-6) and the clock's pauses (R-CMP-3)."""

from __future__ import annotations

from typing import Any

from crm_tui.domain import complaints as dc
from crm_tui.domain.errors import Conflict, ValidationError, ValidationErrors
from crm_tui.domain.roles import all_roles
from crm_tui.domain.validation import clean_text
from crm_tui.i18n import N_, _
from crm_tui.services.complaints.common import _clean, _load, _require_handler, _step
from crm_tui.services.complaints.filing import _require_acknowledged
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.store.queries import complaints as q

# ------------------------------------------------------------------------------------------------
# Workflow steps (R-CMP-2, R-CMP-4, R-CMP-5, R-CMP-6)
# ------------------------------------------------------------------------------------------------


def handlers(svc: Services) -> list[tuple[int, str]]:
    """Active staff who may handle complaints (for the assign dialog): (id, display name)."""
    roles = [code for code, r in all_roles().items() if "complaint.handle" in r.permissions]
    if not roles:
        return []
    with svc.store.read() as s:
        return q.staff_with_roles(s, roles)


def _resolve_handler(svc: Services, token: str | int) -> tuple[int, str]:
    t = str(token).strip()
    if not t:
        raise ValidationErrors([ValidationError("assignee", "Choose the person who will handle it")])
    with svc.store.read() as s:
        r = q.staff_by_id(s, int(t)) if t.isdigit() else q.staff_by_username(s, t)
    if r is None:
        raise ValidationErrors([ValidationError("assignee", "Unknown staff member '{name}'", name=t)])
    if int(r[0]) not in {i for i, _n in handlers(svc)}:
        raise ValidationErrors([ValidationError("assignee", "{name} cannot handle complaints; choose a customer "
                                                            "manager or the section chief", name=r[1])])
    return int(r[0]), str(r[1])


def assign(svc: Services, actor: Actor, ticket_id: int, assignee: str | int, note: str = "") -> str:
    """Name the handler (R-CMP-2): 已登记 -> 处理中 (the respond limit stops), or change the handler
    of an open ticket. Needs complaint.assign. Returns the new state."""
    svc.require(actor, "complaint.assign", ticket=ticket_id)
    with svc.store.read() as s:
        row = _load(s, ticket_id)
    action = "assign" if row["state"] == dc.REGISTERED else "reassign"
    dc.next_state(row["state"], action)
    if action == "assign":
        _require_acknowledged(row)
    sid, name = _resolve_handler(svc, assignee)
    if action == "reassign" and sid == row["assignee_id"]:
        raise ValidationErrors([ValidationError("assignee", "{name} already handles this ticket", name=name)])
    clean_note = _clean(note, "note", max_len=500, required=False)
    updates: dict[str, Any] = {"assignee_id": sid}
    if row["responded_at"] is None:
        updates["responded_at"] = svc.now()
    return _step(svc, actor, row, action, updates, clean_note or name,
                 {"assignee": name, "previous": row["assignee_id"]})


def solve(svc: Services, actor: Actor, ticket_id: int, solution: str) -> str:
    """The handler records the investigation's solution: 处理中 -> 待反馈."""
    row = _require_handler(svc, actor, ticket_id)
    dc.next_state(row["state"], "solve")
    clean = _clean(solution, "solution")
    return _step(svc, actor, row, "solve", {"solution": clean}, clean)


def feed_back(svc: Services, actor: Actor, ticket_id: int, result: str, reasons: str, method: str) -> str:
    """The result and its reasons told to the customer, and how (R-CMP-4): 待反馈 -> 待回访; the
    resolve limit stops."""
    row = _require_handler(svc, actor, ticket_id)
    dc.next_state(row["state"], "feed_back")
    errors: list[ValidationError] = []
    vals: dict[str, Any] = {}
    for field, value, max_len, multi in (("feedback_result", result, 2000, True),
                                         ("feedback_reasons", reasons, 2000, True),
                                         ("feedback_method", method, 100, False)):
        try:
            vals[field] = clean_text(value, field, max_len=max_len, required=True, multiline=multi)
        except ValidationError as e:
            errors.append(e)
    if errors:
        raise ValidationErrors(errors)
    vals["feedback_at"] = svc.now()
    vals["paused_since"] = None
    note = _("{result} (told by {method})", result=vals["feedback_result"], method=vals["feedback_method"])
    return _step(svc, actor, row, "feed_back", vals, note, extra=_end_pause)


def _end_pause(tx: Tx, ticket_id: int) -> None:
    q.end_pause(tx.session, ticket_id, tx.now)


def return_visit(svc: Services, actor: Actor, ticket_id: int, method: str, notes: str,
                 satisfaction: int | str) -> None:
    """The return visit after the feedback (回访, R-CMP-4) with the customer's satisfaction 1-5
    (R-CMP-6). The ticket stays 待回访: close it, or reopen it if the customer is not satisfied."""
    row = _require_handler(svc, actor, ticket_id)
    dc.next_state(row["state"], "visit")
    clean = dc.check_visit(method, notes, satisfaction)

    def keep_score(tx: Tx, ticket: int) -> None:  # every visit's score counts, reopened or not
        q.add_visit(tx.session, complaint_id=ticket, at=tx.now, method=clean["method"],
                    satisfaction=clean["satisfaction"], handler_id=row["assignee_id"], staff_id=actor.staff_id)

    _step(svc, actor, row, "visit", {"visit_method": clean["method"], "visit_notes": clean["notes"],
                                     "satisfaction": clean["satisfaction"], "visit_at": svc.now()},
          _("Satisfaction {score}/5 ({method}): {notes}", score=clean["satisfaction"], method=clean["method"],
            notes=clean["notes"]), {"satisfaction": clean["satisfaction"]}, extra=keep_score)


def close(svc: Services, actor: Actor, ticket_id: int, cause_analysis: str, preventive_measure: str) -> None:
    """待回访 -> 已关闭. Needs the return visit's satisfaction (R-CMP-6), a cause analysis and a
    preventive measure (R-CMP-5)."""
    row = _require_handler(svc, actor, ticket_id)
    dc.next_state(row["state"], "close")
    clean = dc.check_close(cause_analysis, preventive_measure, row["satisfaction"])
    _step(svc, actor, row, "close", {**clean, "closed_at": svc.now(), "closed_by_id": actor.staff_id},
          _("Cause: {cause} / Measure: {measure}", cause=clean["cause_analysis"],
            measure=clean["preventive_measure"]), {"satisfaction": row["satisfaction"]})


def reopen(svc: Services, actor: Actor, ticket_id: int, reason: str) -> str:
    """The customer is not satisfied (R-CMP-4): 待回访, or 已关闭 within the configured days, ->
    处理中 with the same handler; the resolve limit starts again. Needs complaint.create (whoever
    takes the customer's call), complaint.handle or complaint.supervise."""
    if not any(actor.can(p) for p in ("complaint.create", "complaint.handle", "complaint.supervise")):
        svc.require(actor, "complaint.create", ticket=ticket_id)
    with svc.store.read() as s:
        row = _load(s, ticket_id)
    pol = dc.load_policy()
    dc.reopen_allowed(row["state"], row["closed_at"], svc.now(), pol.reopen_within_days)
    clean = _clean(reason, "reason", max_len=1000)
    return _step(svc, actor, row, "reopen", {
        "resolve_from": svc.now(), "feedback_at": None, "solution": None, "feedback_result": None,
        "feedback_reasons": None, "feedback_method": None, "visit_at": None, "visit_method": None,
        "visit_notes": None, "satisfaction": None, "cause_analysis": None, "preventive_measure": None,
        "closed_at": None, "closed_by_id": None, "reopen_count": row["reopen_count"] + 1}, clean,
        {"previous_satisfaction": row["satisfaction"]})


def pause(svc: Services, actor: Actor, ticket_id: int, reason: str) -> None:
    """Stop the clock while waiting for the customer (R-CMP-3). The handler or the section chief;
    before assignment also the front desk (complaint.create)."""
    svc.check_password_current(actor)
    row = _require_pauser(svc, actor, ticket_id)
    dc.next_state(row["state"], "pause")
    if row["paused_since"] is not None:
        raise Conflict(N_("The clock of ticket {number} is already paused."), number=row["number"])
    clean = _clean(reason, "reason", max_len=500)

    def start(tx: Tx, tid: int) -> None:
        q.start_pause(tx.session, tid, tx.now, clean)

    _step(svc, actor, row, "pause", {"paused_since": svc.now()}, clean, extra=start)


def resume(svc: Services, actor: Actor, ticket_id: int, note: str = "") -> None:
    """Restart the clock; the paused working time is added to the deadlines."""
    svc.check_password_current(actor)
    row = _require_pauser(svc, actor, ticket_id)
    dc.next_state(row["state"], "resume")
    if row["paused_since"] is None:
        raise Conflict(N_("The clock of ticket {number} is running; there is nothing to restart."),
                       number=row["number"])
    clean = _clean(note, "note", max_len=500, required=False)
    _step(svc, actor, row, "resume", {"paused_since": None}, clean, extra=_end_pause)


def _require_pauser(svc: Services, actor: Actor, ticket_id: int) -> dict[str, Any]:
    with svc.store.read() as s:
        assigned = _load(s, ticket_id)["assignee_id"] is not None
    if assigned:
        return _require_handler(svc, actor, ticket_id)
    if not (actor.can("complaint.create") or actor.can("complaint.supervise")):
        svc.require(actor, "complaint.create", ticket=ticket_id)
    with svc.store.read() as s:
        return _load(s, ticket_id)


def check_step(svc: Services, actor: Actor, ticket_id: int, action: str) -> None:
    """Whether ``actor`` may start ``action`` on the ticket now (permission, handler, workflow state),
    so the UI can refuse at the key press, before any typing. Writes nothing but the audit entry
    of a permission refusal; the step itself checks everything again."""
    svc.check_password_current(actor)
    if action in ("assign", "reassign"):
        svc.require(actor, "complaint.assign", ticket=ticket_id)
        with svc.store.read() as s:
            row = _load(s, ticket_id)
        dc.next_state(row["state"], "assign" if row["state"] == dc.REGISTERED else "reassign")
        if row["state"] == dc.REGISTERED:
            _require_acknowledged(row)
    elif action == "acknowledge":
        if not any(actor.can(p) for p in ("complaint.create", "complaint.handle", "complaint.supervise")):
            svc.require(actor, "complaint.create", ticket=ticket_id)
        with svc.store.read() as s:
            row = _load(s, ticket_id)
        if row["ack_at"] is not None:
            raise Conflict(N_("The customer of ticket {number} was already told on {at}."), number=row["number"],
                           at=f"{row['ack_at']:%Y-%m-%d %H:%M}")
        dc.next_state(row["state"], "acknowledge")
    elif action == "reopen":
        if not any(actor.can(p) for p in ("complaint.create", "complaint.handle", "complaint.supervise")):
            svc.require(actor, "complaint.create", ticket=ticket_id)
        with svc.store.read() as s:
            row = _load(s, ticket_id)
        dc.reopen_allowed(row["state"], row["closed_at"], svc.now(), dc.load_policy().reopen_within_days)
    elif action in ("pause", "resume"):
        row = _require_pauser(svc, actor, ticket_id)
        dc.next_state(row["state"], action)
    else:
        with svc.store.read() as s:
            row = _load(s, ticket_id)
        dc.next_state(row["state"], action)
        _require_handler(svc, actor, ticket_id)


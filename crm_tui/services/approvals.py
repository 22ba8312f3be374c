"""Approval of sensitive operations by a second person (R-SEC-2).

Exporting the customer list, erasing a customer, restoring a backup, revealing the ID number of a
customer who is not one's own and destroying archives past retention need an approved request
when the setting ``approval.required`` lists them (data/settings.toml; all on by default). The
requester asks (operation, target, reason); a section chief, deputy manager or administrator
(permission ``approval.decide``), never the requester, approves or rejects; the requester then runs
the operation with the request's id, which the operation's service accepts once (state ``used``)
and only before it expires (``approval.valid_hours``). Every step is audited.

Restoring onto a damaged database cannot check a request in that database: the recovery-code path
(``crm-tui restore FILE --recovery-code``) stays the break-glass path, proven by holding the sealed
recovery code; it is audited in the restored database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from crm_tui.domain import masking
from crm_tui.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from crm_tui.domain.validation import clean_text
from crm_tui.i18n import N_, _
from crm_tui.services.context import PERMISSION_LABELS, Actor, Services, Tx
from crm_tui.services.home import WorkItem, register_item
from crm_tui.store.queries import approvals as q

PERMISSION_LABELS.setdefault("approval.decide", N_("approve sensitive operations"))

#: operation -> (label, the permission the requester must hold, whether a target is required)
OPERATIONS: dict[str, tuple[str, str, bool]] = {
    "customer.export": (N_("export the customer list"), "customer.export", False),
    "customer.erase": (N_("erase a customer's personal data"), "customer.erase", True),
    "backup.restore": (N_("restore a backup"), "backup.restore", True),
    "customer.reveal_other": (N_("reveal the ID number of a customer who is not one's own"),
                              "customer.view_sensitive", True),
    "customer.destroy_batch": (N_("destroy the archives past their retention period"), "customer.erase", False),
}

STATE_LABELS = {
    "requested": N_("requested"), "approved": N_("approved"), "rejected": N_("rejected"),
    "used": N_("used"), "expired": N_("expired"),
}


class ApprovalNeeded(Conflict):
    """The operation needs an approved request (R-SEC-2); nothing was done."""

    def __init__(self, operation: str, problem: str | None = None, **params: object) -> None:
        if problem is None:
            super().__init__(N_("This operation ({what}) needs a second person's approval: request it (approval"
                                " request {operation} ...), and run it again with --approval ID once approved."),
                             what=_(OPERATIONS[operation][0]), operation=operation)
        else:
            super().__init__(problem, **params)
        self.operation = operation


@dataclass(frozen=True)
class ApprovalView:
    id: int
    requester: str
    requester_name: str
    operation: str
    target: str | None
    params: dict[str, Any]
    reason: str
    state: str  # requested | approved | rejected | used | expired
    requested_at: datetime
    expires_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    used_at: datetime | None
    decided_by_name: str | None = None  # shown: the person by name

    @property
    def operation_label(self) -> str:
        return _(OPERATIONS[self.operation][0]) if self.operation in OPERATIONS else self.operation

    @property
    def state_label(self) -> str:
        return _(STATE_LABELS.get(self.state, self.state))


def _dt(v: object) -> datetime | None:
    if v is None or isinstance(v, datetime):
        return v
    return datetime.fromisoformat(str(v))


def required(svc: Services, operation: str) -> bool:
    """Whether ``operation`` needs an approved request (setting approval.required)."""
    return operation in set(svc.setting("approval", "required") or ())


def _parse_op(operation: str) -> str:
    op = (operation or "").strip()
    if op not in OPERATIONS:
        raise ValidationError("operation", "Unknown operation '{op}'; choose one of: {options}", op=op,
                              options=", ".join(OPERATIONS))
    return op


def _view(r: q.RequestRow, now: datetime) -> ApprovalView:
    state = r.state
    expires = _dt(r.expires_at)
    assert expires is not None
    if state in ("requested", "approved") and expires <= now:
        state = "expired"
    # a reason, a note or an export's query may quote a customer's phone or ID number: masked for
    # every reader, as in the audit trail (domain.masking)
    scrub = masking.GENERIC.value
    return ApprovalView(r.id, r.requester, r.requester_name, r.operation, r.target,
                        scrub(json.loads(r.params) if r.params else {}), scrub(r.reason), state,
                        _dt(r.requested_at), expires, r.decided_by, _dt(r.decided_at),  # type: ignore[arg-type]
                        scrub(r.decision_note), _dt(r.used_at), decided_by_name=r.decided_by_name)


def request(svc: Services, actor: Actor, operation: str, reason: str, *, target: str | None = None,
            params: dict[str, Any] | None = None) -> int:
    """Ask for approval of one operation. The requester must hold the operation's own permission."""
    op = _parse_op(operation)
    label, permission, needs_target = OPERATIONS[op]
    svc.require(actor, permission, approval_for=op)
    errors: list[ValidationError] = []
    clean_reason = clean_text(reason, "reason", max_len=500, required=True, multiline=True)
    clean_target = (target or "").strip() or None
    if clean_target and op == "backup.restore":  # found as a user: a full path was never "this" file
        from pathlib import Path

        clean_target = Path(clean_target).name or None  # the restore checks the backup by its file name
    if needs_target and not clean_target:
        errors.append(ValidationError("target", "Say which one (--target): the customer number or the backup file"))
    if errors:
        raise errors[0]
    with svc.write(actor) as tx:
        if clean_target and op in ("customer.erase", "customer.reveal_other"):
            if not q.live_customer_numbered(tx.session, clean_target):
                raise ValidationError("target", "No customer numbered {number}.", number=clean_target)
        hours = int(svc.setting("approval", "valid_hours"))
        rid = q.insert_request(tx.session, requester_id=actor.staff_id, operation=op, target=clean_target,
                               params_json=json.dumps(params or {}, ensure_ascii=False), reason=clean_reason,
                               now=tx.now, expires_at=tx.now + timedelta(hours=hours))
        tx.audit("approval.request", entity="approval_request", entity_id=rid,
                 details={"operation": op, "target": clean_target, "reason": clean_reason})
    return rid


def list_requests(svc: Services, actor: Actor, *, pending_only: bool = False, limit: int = 200) -> list[ApprovalView]:
    """Approvers see every request (the queue), others their own; newest first."""
    now = svc.now()
    with svc.store.read() as s:
        rows = q.requests(s, requester_id=actor.staff_id, only_own=not actor.can("approval.decide"),
                          pending_at=now if pending_only else None, limit=limit)
    return [_view(r, now) for r in rows]


def get_request(svc: Services, actor: Actor, request_id: int) -> ApprovalView:
    with svc.store.read() as s:
        r = q.request(s, request_id)
    if r is None or (not actor.can("approval.decide") and r.requester_id != actor.staff_id):
        raise NotFound("No approval request {id}.", id=request_id)
    return _view(r, svc.now())


def _decide(svc: Services, actor: Actor, request_id: int, approve: bool, note: str) -> None:
    svc.require(actor, "approval.decide", request=request_id)
    clean_note = clean_text(note, "reason", max_len=500, required=not approve, multiline=True)
    with svc.write(actor) as tx:
        r = q.request(tx.session, request_id)
        if r is None:
            raise NotFound("No approval request {id}.", id=request_id)
        view = _view(r, tx.now)
        if r.requester_id == actor.staff_id:
            raise PermissionDenied("A request needs a second person: you cannot decide your own request.")
        if view.state != "requested":
            raise Conflict("Request {id} is {state}; only a requested one can be decided.", id=request_id,
                           state=view.state_label)
        q.decide(tx.session, request_id, "approved" if approve else "rejected", actor.staff_id, tx.now, clean_note)
        tx.audit("approval.approve" if approve else "approval.reject", entity="approval_request",
                 entity_id=request_id, details={"operation": view.operation, "target": view.target,
                                                "requester": view.requester, "note": clean_note})


def approve(svc: Services, actor: Actor, request_id: int, note: str = "") -> None:
    _decide(svc, actor, request_id, True, note)


def reject(svc: Services, actor: Actor, request_id: int, reason: str) -> None:
    _decide(svc, actor, request_id, False, reason)


def _usable(tx_or_session: Any, actor: Actor, operation: str, approval_id: int | None, target: str | None,
            now: datetime) -> ApprovalView:
    if approval_id is None:
        raise ApprovalNeeded(operation)
    r = q.request(tx_or_session, approval_id)
    if r is None or r.requester_id != actor.staff_id:
        raise ApprovalNeeded(operation, N_("Approval request {id} is not one of yours."), id=approval_id)
    view = _view(r, now)
    if view.operation != operation:
        raise ApprovalNeeded(operation, N_("Approval request {id} is for another operation ({what})."), id=approval_id,
                             what=view.operation_label)
    if view.state != "approved":
        raise ApprovalNeeded(operation, N_("Approval request {id} is {state}, not approved."), id=approval_id,
                             state=view.state_label)
    if view.target is not None and target is not None and view.target != target:
        raise ApprovalNeeded(operation, N_("Approval request {id} was given for {target}, not this one."),
                             id=approval_id, target=view.target)
    return view


def check(svc: Services, actor: Actor, operation: str, approval_id: int | None, target: str | None = None) -> None:
    """Before a long operation: refuse early when the approval will not be accepted."""
    if not required(svc, operation):
        return
    with svc.store.read() as s:
        _usable(s, actor, operation, approval_id, target, svc.now())


def use(tx: Tx, svc: Services, operation: str, approval_id: int | None, target: str | None = None) -> int | None:
    """Inside the operation's transaction: accept the approval once (state ``used``), or raise
    :class:`ApprovalNeeded`. Returns the request id, or None when the operation needs none."""
    if not required(svc, operation):
        return None
    view = _usable(tx.session, tx.actor, operation, approval_id, target, tx.now)
    if not q.mark_used(tx.session, view.id, tx.now):
        raise ApprovalNeeded(operation, N_("Approval request {id} has just been used."), id=view.id)
    tx.audit("approval.used", entity="approval_request", entity_id=view.id,
             details={"operation": operation, "target": target})
    return view.id


@register_item
def _approval_items(s, actor: Actor, svc: Services) -> list[WorkItem]:  # type: ignore[no-untyped-def]
    if not actor.can("approval.decide"):
        return []
    n = q.pending_for(s, actor.staff_id, svc.now())
    return [WorkItem("approval.pending", N_("Approval requests waiting for your decision"), n, "open('approvals')",
                     True)] if n else []


def find_usable(svc: Services, actor: Actor, operation: str, target: str | None = None) -> int | None:
    """The actor's newest approved, unused, unexpired request for ``operation`` (and ``target``),
    so the screens need not ask for its number; None when there is none."""
    with svc.store.read() as s:
        return q.newest_usable(s, actor.staff_id, operation, target, svc.now())

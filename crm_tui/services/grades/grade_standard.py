"""The grade standard (R-GRD-1): set by marketing/sales, in force after the section chief's and
then the deputy manager's approval."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crm_tui.domain import grades as dg
from crm_tui.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError, ValidationErrors
from crm_tui.domain.validation import clean_text
from crm_tui.i18n import N_, _
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.services.grades.common import _dt, _me, _names, _policy_codes, _sess, _standard_in, standard
from crm_tui.store.queries import grades as q

# ------------------------------------------------------------------------------------------------
# The standard (R-GRD-1)
# ------------------------------------------------------------------------------------------------


def _standard_dict(std: dg.GradeStandard) -> dict[str, dict[str, Any]]:
    return {c: {"name": g.name_zh, "name_en": g.name_en, "rank": g.rank, "description": g.description_zh,
                "description_en": g.description_en, "contact_days": g.contact_days, "criteria": g.criteria.as_dict()}
            for c, g in std.grades.items()}


def standard_as_dict(svc: Services) -> dict[str, dict[str, Any]]:
    return _standard_dict(standard(svc))


STANDARD_STATES = {
    "submitted": N_("Waiting for the section chief"),
    "chief_approved": N_("Waiting for the deputy manager"),
    "applied": N_("Approved and in force"),
    "rejected": N_("Rejected"),
}


@dataclass(frozen=True)
class StandardChange:
    """A proposed grade standard (R-GRD-1) and its two approvals."""

    id: int
    state: str
    reason: str
    proposed_by: str
    proposed_at: datetime
    chief: str
    chief_at: datetime | None
    deputy: str
    deputy_at: datetime | None
    rejected_by: str
    reject_reason: str
    changes: dict[str, list[Any]]  # grade -> [old, new] against the standard in force when proposed

    @property
    def state_label(self) -> str:
        return _(STANDARD_STATES.get(self.state, self.state))


def _checked_standard(tx: Tx, raw: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    new = dg.standard_from_dict(raw, **_policy_codes())
    in_use = q.grades_in_use(tx.session)
    removed = sorted(in_use - set(new.grades))
    if removed:
        raise ValidationErrors([ValidationError("grades", "Grade {codes} is still in use and cannot be removed",
                                                codes=", ".join(removed))])
    return _standard_dict(new)


def save_standard(svc: Services, actor: Actor, raw: Mapping[str, Mapping[str, Any]], reason: str = "") -> int:
    """Propose a new grade standard (R-GRD-1: set by marketing/sales, approved by management). It
    takes effect only after the section chief and then the deputy manager approve it
    (``decide_standard_change``). Needs grade.standard_edit; one open proposal at a time; a grade
    some customer or open application uses cannot be removed. Returns the proposal's id."""
    svc.require(actor, "grade.standard_edit")
    errors: list[ValidationError] = []
    clean_reason: str | None = None
    try:
        clean_reason = clean_text(reason, "reason", max_len=dg.REASON_MAX, required=True, multiline=True)
        if clean_reason is not None and len(clean_reason) < 4:
            errors.append(ValidationError("reason", "Write the reason for the change (at least {n} characters)", n=4))
    except ValidationError as e:
        errors.append(e)
    with svc.write(actor) as tx:
        try:
            fresh = _checked_standard(tx, raw)
        except ValidationErrors as e:
            raise ValidationErrors([*e.errors, *errors]) from None
        if errors:
            raise ValidationErrors(errors)
        old = _standard_dict(_standard_in(tx))
        if fresh == old:
            raise ValidationErrors([ValidationError("grades", "The proposal is the standard in force; change something")])
        if q.standard_change_pending(tx.session):
            raise Conflict(N_("A change of the grade standard is already waiting for approval; it must be decided "
                              "first."))
        cid = q.insert_standard_change(tx.session, proposed_json=json.dumps(fresh, ensure_ascii=False),
                                       reason=clean_reason, by_id=actor.staff_id, now=tx.now)
        changes = {c: [old.get(c), fresh.get(c)] for c in sorted(set(old) | set(fresh)) if old.get(c) != fresh.get(c)}
        tx.audit("grade.standard_propose", entity="grade_standard_change", entity_id=cid,
                 details={"changes": changes, "reason": clean_reason})
    return cid


def _write_standard(tx: Tx, fresh: Mapping[str, Mapping[str, Any]], proposer: int | None) -> dict[str, Any]:
    old = _standard_dict(_standard_in(tx))
    q.replace_standard(tx.session, fresh, now=tx.now, by_id=proposer)
    return {c: [old.get(c), fresh.get(c)] for c in sorted(set(old) | set(fresh)) if old.get(c) != fresh.get(c)}


def _change_row(s: Session | Tx, change_id: int) -> dict[str, Any]:
    r = q.standard_change(_sess(s), change_id)
    if r is None:
        raise NotFound("No grade standard change #{id}.", id=change_id)
    return r


def decide_standard_change(svc: Services, actor: Actor, change_id: int, approve: bool, comment: str = "") -> str:
    """The management's decision on a proposed standard (R-GRD-1), in two steps: the section chief
    (grade.approve_chief), then the deputy manager (grade.approve_deputy), whose approval puts it
    in force in the same transaction. Neither may be the proposer; the two approvers are two
    people. A rejection needs a reason and ends the proposal. Returns the new state."""
    svc.check_password_current(actor, change=change_id)
    with svc.store.read() as s:
        row = _change_row(s, change_id)
    if row["state"] not in ("submitted", "chief_approved"):
        raise Conflict(N_("This change of the grade standard was already decided ({state})."),
                       state=_(STANDARD_STATES.get(row["state"], row["state"])))
    step = "chief" if row["state"] == "submitted" else "deputy"
    svc.require(actor, "grade.approve_chief" if step == "chief" else "grade.approve_deputy", change=change_id)
    me = set(_me(actor))
    if row["proposed_by_id"] in me:
        raise _deny_standard(svc, actor, change_id, N_("You proposed this change; management must approve it."))
    if step == "deputy" and row["chief_id"] in me:
        raise _deny_standard(svc, actor, change_id, N_("You gave the section chief's approval; the deputy "
                                                       "manager's approval must come from another person."))
    try:
        clean = clean_text(comment, "comment", max_len=dg.COMMENT_MAX, required=not approve, multiline=True)
    except ValidationError as e:
        raise ValidationErrors([e]) from None
    with svc.write(actor) as tx:
        cur = _change_row(tx, change_id)
        if cur["state"] != row["state"]:
            raise Conflict(N_("This change of the grade standard was already decided ({state})."),
                           state=_(STANDARD_STATES.get(cur["state"], cur["state"])))
        if not approve:
            q.reject_standard_change(tx.session, change_id, by_id=actor.staff_id, now=tx.now, reason=clean)
            tx.audit("grade.standard_reject", entity="grade_standard_change", entity_id=change_id,
                     details={"step": step, "reason": clean})
            return "rejected"
        if step == "chief":
            q.approve_standard_change_chief(tx.session, change_id, by_id=actor.staff_id, now=tx.now)
            tx.audit("grade.standard_approve_chief", entity="grade_standard_change", entity_id=change_id,
                     details={"comment": clean})
            return "chief_approved"
        fresh = _checked_standard(tx, json.loads(cur["proposed"]))  # still valid now (grades in use)
        changes = _write_standard(tx, fresh, cur["proposed_by_id"])
        q.apply_standard_change(tx.session, change_id, by_id=actor.staff_id, now=tx.now)
        tx.audit("grade.standard_approve_deputy", entity="grade_standard_change", entity_id=change_id,
                 details={"comment": clean})
        tx.audit("grade.standard_edit", entity="grade_standard", details={"changes": changes, "change": change_id})
    return "applied"


def _deny_standard(svc: Services, actor: Actor, change_id: int, msgid: str) -> PermissionDenied:
    with svc.write(actor) as tx:
        tx.audit("grade.duty_refused", entity="grade_standard_change", entity_id=change_id, details={"rule": msgid})
    return PermissionDenied(msgid)


def standard_changes(svc: Services, actor: Actor, *, limit: int = 50) -> list[StandardChange]:
    """Proposed grade standards, newest first, with their approvals (grade.view)."""
    svc.require(actor, "grade.view")
    with svc.store.read() as s:
        rows = q.standard_changes(s, max(1, min(limit, 500)))
        names = _names(s, [r[k] for r in rows for k in ("proposed_by_id", "chief_id", "deputy_id", "rejected_by_id")])
        current = _standard_dict(_standard_in(s))
    out = []
    for r in rows:
        new = json.loads(r["proposed"])
        changes = {c: [current.get(c), new.get(c)] for c in sorted(set(current) | set(new))
                   if current.get(c) != new.get(c)} if r["state"] in ("submitted", "chief_approved") else {}
        out.append(StandardChange(r["id"], r["state"], r["reason"], names.get(r["proposed_by_id"], ""),
                                  _dt(r["proposed_at"]), names.get(r["chief_id"], ""),  # type: ignore[arg-type]
                                  _dt(r["chief_at"]), names.get(r["deputy_id"], ""), _dt(r["deputy_at"]),
                                  names.get(r["rejected_by_id"], ""), r["reject_reason"] or "", changes))
    return out


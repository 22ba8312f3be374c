"""Light feedback on the archive (R-CMP-7, R-CUST-15), the customer timeline (R-CUST-14) and
erasure (R-CUST-13) of complaints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from crm_tui.domain import complaints as dc
from crm_tui.domain.errors import Conflict, NotFound, ValidationError, ValidationErrors
from crm_tui.domain.validation import clean_text
from crm_tui.i18n import N_, _
from crm_tui.services import customers as cs
from crm_tui.services.complaints.common import EVENT_TITLES, FeedbackRow, TicketRef
from crm_tui.services.complaints.filing import file_complaint
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.services.customers import TimelineEntry, register_erase_hook, register_timeline_source, timeline_key
from crm_tui.store.queries import complaints as q

# ------------------------------------------------------------------------------------------------
# Light feedback on the archive (R-CMP-7, R-CUST-15)
# ------------------------------------------------------------------------------------------------


def add_feedback(svc: Services, actor: Actor, customer_id: int, kind: str, text_: str,
                 score: int | str | None = None) -> int:
    """Praise, suggestion, grumble or satisfaction survey (score 1-5 required for a survey).
    Needs feedback.create."""
    svc.require(actor, "feedback.create")
    errors: list[ValidationError] = []
    if kind not in dc.FEEDBACK_KINDS:
        errors.append(ValidationError("kind", "Choose one of: {options}",
                                      options=", ".join(_(v) for v in dc.FEEDBACK_KINDS.values())))
    clean: str | None = None
    try:
        clean = clean_text(text_, "text", max_len=1000, required=kind != "survey", multiline=True)
    except ValidationError as e:
        errors.append(e)
    n: int | None = None
    if kind == "survey" or score not in (None, ""):
        try:
            n = dc.check_score(score, "score")
        except ValidationErrors as e:
            errors.extend(e.errors)
    if errors:
        raise ValidationErrors(errors)
    with svc.write(actor) as tx:
        cust = q.customer_brief(tx.session, customer_id)
        if cust is None or cust[2]:
            raise NotFound("No customer archive #{id}.", id=customer_id)
        fid = q.add_feedback(tx.session, customer_id=customer_id, kind=kind, at=tx.now, text_=clean, score=n,
                             staff_id=actor.staff_id)
        q.touch_customer(tx.session, customer_id, tx.now)
        tx.audit("feedback.create", entity="customer_feedback", entity_id=fid, customer_id=customer_id,
                 details={"kind": kind, "score": n})
    return fid


def list_feedback(svc: Services, actor: Actor, customer_id: int, *, limit: int = 100) -> list[FeedbackRow]:
    svc.require(actor, "customer.view")
    with svc.store.read() as s:
        rows = q.feedback_of(s, customer_id, max(1, min(limit, 500)))
        shown = cs.text_policy(s, actor, customer_id)  # the masking policy (R-SEC-2)
    return [FeedbackRow(r.id, r.kind, r.at, shown(r.text or ""), r.score, r.staff or "", r.complaint_id,
                        r.complaint_number) for r in rows]


def grumble_to_ticket(svc: Services, actor: Actor, feedback_id: int, *, severity: str = "normal",
                      category: str = "other/other", channel: str = "in_person",
                      ack_method: str = "") -> TicketRef:
    """Turn a grumble into a complaint ticket in one step (its text becomes the description;
    received at the grumble's time). Needs complaint.create."""
    svc.require(actor, "complaint.create")
    with svc.store.read() as s:
        r = q.feedback_entry(s, feedback_id)
    if r is None:
        raise NotFound("No feedback entry #{id}.", id=feedback_id)
    if r.kind != "grumble":
        raise Conflict(N_("Only a grumble can become a complaint ticket."))
    if r.complaint_id is not None:
        raise Conflict(N_("This grumble is already complaint ticket #{id}."), id=r.complaint_id)
    at = r.at
    assert at is not None
    ref = file_complaint(svc, actor, r.customer_id, {"channel": channel, "category": category, "severity": severity,
                                                     "description": r.text, "ack_method": ack_method,
                                                 "received_at": at.strftime("%Y-%m-%d %H:%M")},
                         feedback_id=feedback_id, ack_later=True)
    with svc.write(actor) as tx:
        q.link_feedback(tx.session, feedback_id, ref.id)
        tx.audit("feedback.to_complaint", entity="customer_feedback", entity_id=feedback_id, customer_id=r.customer_id,
                 details={"complaint": ref.number})
    return ref


# ------------------------------------------------------------------------------------------------
# Customer timeline (R-CUST-14)
# ------------------------------------------------------------------------------------------------


@register_timeline_source("complaint")
def _complaint_source(s: Session, customer_id: int, before: datetime | None, limit: int) -> list[TimelineEntry]:
    out = []
    for r in q.timeline_events(s, customer_id, before, limit):
        eid, at_, action, to_state, note, number, staff = r.id, r.at, r.action, r.to_state, r.note, r.number, r.staff
        assert at_ is not None
        title = _("Complaint {number}: {what}", number=number, what=_(EVENT_TITLES.get(action, action)))
        body = _("State: {state}", state=dc.state_label(to_state)) + (f"\n{note}" if note else "")
        out.append(TimelineEntry(at_, "complaint", title, body, staff or "", timeline_key(at_, "complaint", eid)))
    return out


@register_timeline_source("feedback")
def _feedback_source(s: Session, customer_id: int, before: datetime | None, limit: int) -> list[TimelineEntry]:
    out = []
    for r in q.timeline_feedback(s, customer_id, before, limit):
        fid, at_, kind, body, score, staff = r.id, r.at, r.kind, r.text, r.score, r.staff
        assert at_ is not None
        title = _(dc.FEEDBACK_KINDS.get(kind, kind))
        if score is not None:
            title += " " + _("(score {score}/5)", score=score)
        out.append(TimelineEntry(at_, "feedback", title, body or "", staff or "", timeline_key(at_, "feedback", fid)))
    return out


# ------------------------------------------------------------------------------------------------
# Erasure (R-CUST-13)
# ------------------------------------------------------------------------------------------------


@register_erase_hook("complaints")
def _erase(tx: Tx, customer_id: int) -> list[str]:
    """The customer's words and what was said to them go; numbers, categories, states, times,
    satisfaction scores and the branch's cause analyses stay for statistics."""
    n, f = q.erase_texts(tx.session, customer_id)
    return (["complaints"] if n else []) + (["feedback"] if f else [])


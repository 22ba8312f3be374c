"""Complaint tickets and light feedback: the use cases of issue 7 (R-CMP-1..7, R-CUST-15).

Every function takes ``(svc, actor, ...)``, checks the permission first (a refusal raises
``PermissionDenied`` and leaves a ``permission.denied`` audit row, nothing else), then the
workflow (an illegal transition raises ``IllegalTransition``), then the input (``ValidationErrors``),
and writes the change, a ``complaint_event`` row (timeline) and an audit entry in ONE transaction.

Who may do what (data/roles.toml):
- complaint.view: read tickets and queues. complaint.create: file a ticket, reopen one for an
  unsatisfied customer. feedback.create: praise / suggestion / grumble / survey on the archive.
- complaint.assign: name the handler (R-CMP-2) or change it.
- complaint.handle: the *assigned* handler (or the colleague covering for them, R-SEC-7) records
  the solution, the feedback, the return visit, pauses the clock and closes.
- complaint.supervise: the section chief may do all of the handler's steps on any ticket.

The clock (R-CMP-3) is computed by ``domain.complaints.clock``; ``due_at`` / ``risk_at`` are kept
on the row after every change so the at-risk and overdue queues are range scans.

The use cases, by module: ``common`` (result types, loading a ticket, its clock, one workflow
step), ``filing`` (R-CMP-1), ``workflow`` (assign, solve, feed back, visit, close, reopen, pause),
``queues`` (one ticket, queues, counts, home items), ``feedback`` (light feedback, the customer
timeline, erasure) and ``reports`` (R-KPI-1, R-CMP-6). Their SQL is in
``crm_tui/store/queries/complaints.py``. Every name stays importable from here.
"""

from __future__ import annotations

from crm_tui.domain import complaints as dc
from crm_tui.services.complaints.common import (
    EVENT_TITLES, QUEUES, SLA_LABELS, FeedbackRow, TicketEvent, TicketPage, TicketRef, TicketRow, TicketView,
    _clean, _clock, _deny, _dt, _event, _is_handler, _load, _pauses, _refresh_clock, _require_handler, _sess,
    _staff_name, _step, calendar, policy,
)
from crm_tui.services.complaints.filing import _record_ack, _require_acknowledged, acknowledge, file_complaint
from crm_tui.services.complaints.workflow import (
    _end_pause, _require_pauser, _resolve_handler, assign, check_step, close, feed_back, handlers, pause, reopen,
    resume, return_visit, solve,
)
from crm_tui.services.complaints.queues import (
    _NOT_TEXT, _complaint_items, _counts, _mine, _sla, get_ticket, queue, queue_counts,
)
from crm_tui.services.complaints.feedback import (
    _complaint_source, _erase, _feedback_source, add_feedback, grumble_to_ticket, list_feedback,
)
from crm_tui.services.complaints.reports import ComplaintReport, _median, _ranked, export_report, report

__all__ = [
    "QUEUES", "FeedbackRow", "TicketEvent", "TicketPage", "TicketRef", "TicketRow", "TicketView", "add_feedback",
    "acknowledge", "assign", "check_step", "close", "feed_back", "file_complaint", "export_report", "get_ticket", "grumble_to_ticket", "handlers", "report",
    "list_feedback", "pause", "policy", "queue", "queue_counts", "reopen", "resume", "return_visit", "solve",
]

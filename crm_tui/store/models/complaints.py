"""Complaint tickets (R-CMP-1..7) and light feedback on the archive (R-CMP-7, R-CUST-15).

``complaint`` holds the ticket and its current state; ``complaint_event`` every transition (who,
when, from -> to, note), which the customer's timeline reads; ``complaint_pause`` the spans the
clock stood still while waiting for the customer. ``due_at`` / ``risk_at`` are kept by the services
whenever the ticket changes, so the at-risk and overdue queues are index range scans.
"""

from __future__ import annotations

from pydantic import NaiveDatetime as datetime  # local wall-clock time, see models/__init__

from sqlalchemy import Column, Index, String, text
from sqlmodel import Field, SQLModel


class Complaint(SQLModel, table=True):
    __tablename__ = "complaint"
    __table_args__ = (
        Index("ix_complaint_state", "state", "id"),
        Index("ix_complaint_customer", "customer_id", "id"),
        Index("ix_complaint_assignee", "assignee_id", "state", "id"),
        Index("ix_complaint_due", "due_at", "id", sqlite_where=text("due_at IS NOT NULL")),
        Index("ix_complaint_risk", "risk_at", "id", sqlite_where=text("risk_at IS NOT NULL")),
        Index("ix_complaint_received", "received_at"),  # reports: complaints per week
        Index("ix_complaint_closed", "closed_at", "assignee_id"),  # the home's week: complaints closed (2201)
        Index("ix_complaint_visit", "visit_at", sqlite_where=text("visit_at IS NOT NULL")),  # satisfaction trend
    )
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(sa_column=Column(String(20), nullable=False, unique=True))
    customer_id: int = Field(foreign_key="customer.id")
    channel: str
    category: str
    severity: str
    description: str | None = None  # NULL after the customer's erasure
    demand: str | None = None
    received_at: datetime
    received_by_id: int | None = Field(default=None, foreign_key="staff.id")
    state: str
    assignee_id: int | None = Field(default=None, foreign_key="staff.id")
    responded_at: datetime | None = None  # first assignment (the respond limit stops)
    resolve_from: datetime  # receipt, or the last reopening
    solution: str | None = None
    feedback_result: str | None = None
    feedback_reasons: str | None = None
    feedback_method: str | None = None
    feedback_at: datetime | None = None  # the resolve limit stops
    visit_method: str | None = None
    visit_notes: str | None = None
    visit_at: datetime | None = None
    satisfaction: int | None = None
    cause_analysis: str | None = None
    preventive_measure: str | None = None
    closed_at: datetime | None = None
    closed_by_id: int | None = Field(default=None, foreign_key="staff.id")
    reopen_count: int = 0
    paused_since: datetime | None = None
    due_at: datetime | None = None
    risk_at: datetime | None = None
    respond_met: bool | None = None
    resolve_met: bool | None = None
    feedback_id: int | None = None  # the grumble this ticket was made from
    # R-CMP-1: how, when and by whom the customer was told "it will be handled"
    ack_method: str | None = None
    ack_at: datetime | None = None
    ack_by_id: int | None = Field(default=None, foreign_key="staff.id")
    version: int = 1
    created_at: datetime
    updated_at: datetime


class ComplaintEvent(SQLModel, table=True):
    __tablename__ = "complaint_event"
    __table_args__ = (
        Index("ix_complaint_event_ticket", "complaint_id", "id"),
        Index("ix_complaint_event_customer", "customer_id", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaint.id")
    customer_id: int = Field(foreign_key="customer.id")
    at: datetime
    actor_id: int | None = Field(default=None, foreign_key="staff.id")
    action: str
    from_state: str | None = None
    to_state: str
    note: str | None = None  # NULL after the customer's erasure


class ComplaintPause(SQLModel, table=True):
    __tablename__ = "complaint_pause"
    __table_args__ = (Index("ix_complaint_pause_ticket", "complaint_id", "start"),)
    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaint.id")
    start: datetime
    end: datetime | None = None
    reason: str | None = None


class ComplaintVisit(SQLModel, table=True):
    """One return visit (回访) with the customer's satisfaction (R-CMP-6); a reopened ticket keeps
    the scores of its earlier visits, and the handler's metric counts each of them."""

    __tablename__ = "complaint_visit"
    __table_args__ = (Index("ix_complaint_visit_at", "at", "handler_id"),
                      Index("ix_complaint_visit_ticket", "complaint_id", "at"))
    id: int | None = Field(default=None, primary_key=True)
    complaint_id: int = Field(foreign_key="complaint.id")
    at: datetime
    method: str | None = None
    satisfaction: int
    handler_id: int | None = Field(default=None, foreign_key="staff.id")
    staff_id: int | None = Field(default=None, foreign_key="staff.id")


class ComplaintNumberSeq(SQLModel, table=True):
    __tablename__ = "complaint_number_seq"
    year: int = Field(primary_key=True)
    last: int = 0


class CustomerFeedback(SQLModel, table=True):
    """Praise, suggestion, grumble or satisfaction survey (score 1-5), lighter than a ticket."""

    __tablename__ = "customer_feedback"
    __table_args__ = (Index("ix_customer_feedback_customer", "customer_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    kind: str  # praise | suggestion | grumble | survey
    at: datetime
    text: str | None = None
    score: int | None = None
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    complaint_id: int | None = Field(default=None, foreign_key="complaint.id")
    created_at: datetime

"""Security records (issue 19): approvals of sensitive operations (R-SEC-2), the erasure ledger
(R-CUST-13) and the incident register (R-SEC-6)."""

from __future__ import annotations

from pydantic import NaiveDatetime as datetime  # local wall-clock time, see models/__init__

from sqlalchemy import Column, Index, String, Text
from sqlmodel import Field, SQLModel


class ApprovalRequest(SQLModel, table=True):
    """A request for a second person's approval of one sensitive operation; used once.
    ``state``: requested | approved | rejected | used (expired is computed from ``expires_at``)."""

    __tablename__ = "approval_request"
    __table_args__ = (Index("ix_approval_request_state", "state", "id"),
                      Index("ix_approval_request_requester", "requester_id", "id"))
    id: int | None = Field(default=None, primary_key=True)
    requester_id: int = Field(foreign_key="staff.id")
    operation: str = Field(sa_column=Column(String(40), nullable=False))
    target: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    params: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON
    reason: str = Field(sa_column=Column(Text, nullable=False))
    state: str = Field(sa_column=Column(String(12), nullable=False))
    requested_at: datetime
    expires_at: datetime
    decided_by_id: int | None = Field(default=None, foreign_key="staff.id")
    decided_at: datetime | None = None
    decision_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    used_at: datetime | None = None


class ErasureLedger(SQLModel, table=True):
    """Which customer numbers were erased and when: no personal data. Re-applied after a restore
    (kept in the data folder too, services/erasure.py)."""

    __tablename__ = "erasure_ledger"
    number: str = Field(sa_column=Column(String(20), primary_key=True))
    erased_at: datetime


class Incident(SQLModel, table=True):
    """A leak or loss (R-SEC-6): what happened, the measures, then the closing report."""

    __tablename__ = "incident"
    __table_args__ = (Index("ix_incident_state", "state", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(sa_column=Column(String(200), nullable=False))
    description: str = Field(sa_column=Column(Text, nullable=False))
    found_at: datetime
    measures: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    state: str = Field(sa_column=Column(String(10), nullable=False))  # open | closed
    query: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # how the affected were chosen
    report: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime
    created_by_id: int | None = Field(default=None, foreign_key="staff.id")
    closed_at: datetime | None = None
    closed_by_id: int | None = Field(default=None, foreign_key="staff.id")


class IncidentCustomer(SQLModel, table=True):
    """One affected customer of an incident and the notice given to them (who, when, how)."""

    __tablename__ = "incident_customer"
    __table_args__ = (Index("ix_incident_customer_customer", "customer_id"),)
    incident_id: int = Field(foreign_key="incident.id", primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", primary_key=True)
    notified_at: datetime | None = None
    notified_by: str | None = Field(default=None, sa_column=Column(String(60), nullable=True))
    notice_method: str | None = Field(default=None, sa_column=Column(String(100), nullable=True))
    notice_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    recorded_by_id: int | None = Field(default=None, foreign_key="staff.id")

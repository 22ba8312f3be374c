"""Telling customers of changes (issue 20, R-CUST-5): a change of a field the policy tells the
customer about, saved without the customer informed, is owed a notice by a due date."""

from __future__ import annotations

from datetime import date

from pydantic import NaiveDatetime as datetime  # local wall-clock time, see models/__init__
from sqlalchemy import Column, Index, String, Text
from sqlmodel import Field, SQLModel


class CustomerInformDue(SQLModel, table=True):
    """One change still to be told to the customer (``informed_at`` empty), or told: who, when, how."""

    __tablename__ = "customer_inform_due"
    __table_args__ = (Index("ix_customer_inform_due_due", "due_date", "id"),
                      Index("ix_customer_inform_due_customer", "customer_id"))
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    fields: str = Field(sa_column=Column(Text, nullable=False))  # JSON list of field names
    changed_at: datetime
    changed_by_id: int | None = Field(default=None, foreign_key="staff.id")
    due_date: date
    informed_at: datetime | None = None
    informed_by_id: int | None = Field(default=None, foreign_key="staff.id")
    informed_method: str | None = Field(default=None, sa_column=Column(String(40), nullable=True))
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))

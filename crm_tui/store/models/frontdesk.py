"""The front desk's records (issue 21): a caller's new phone number awaiting the owner's
confirmation (R-CUST-5, R-CUST-8; data/roles.toml ``phone_change``)."""

from __future__ import annotations

from pydantic import NaiveDatetime as datetime  # local wall-clock time, see models/__init__

from sqlalchemy import Column, Index, String, Text
from sqlmodel import Field, SQLModel


class PhoneChangeRequest(SQLModel, table=True):
    """A new phone number a caller gave the front desk, applied when the customer's responsible
    staff member confirms it. ``state``: requested | confirmed | rejected. ``replaces_phone_id``
    names the phone it replaces (None: an additional phone)."""

    __tablename__ = "phone_change_request"
    __table_args__ = (Index("ix_phone_change_request_customer", "customer_id", "state"),
                      Index("ix_phone_change_request_state", "state", "id"))
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    national: str = Field(sa_column=Column(String(20), nullable=False))
    replaces_phone_id: int | None = None
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    informed: bool = False
    state: str = Field(sa_column=Column(String(12), nullable=False))
    requested_by_id: int = Field(foreign_key="staff.id")
    requested_at: datetime
    decided_by_id: int | None = Field(default=None, foreign_key="staff.id")
    decided_at: datetime | None = None
    decision_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))

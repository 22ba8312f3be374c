"""Follow-up cards (A卡), their visits, the front-desk register and ownership claims (R-FU-1..6).

A card belongs to one customer archive and one consultant (``owner_id``). ``next_visit_due`` is
kept by the services from the intent level's cadence (or a date chosen by hand with a reason);
it is NULL once the card is no longer open. Personal free text (summaries, names typed at the
front desk) is emptied when the customer is erased (R-CUST-13).
"""

from __future__ import annotations

from datetime import date

from pydantic import NaiveDatetime as datetime  # local wall-clock time, see models/__init__
from sqlalchemy import Column, Index, String, text
from sqlmodel import Field, SQLModel


class FollowupCardSeq(SQLModel, table=True):
    __tablename__ = "followup_card_seq"
    year: int = Field(primary_key=True)
    last: int


class FollowupCard(SQLModel, table=True):
    __tablename__ = "followup_card"
    __table_args__ = (
        Index("ix_followup_card_due", "owner_id", "next_visit_due", "id", sqlite_where=text("status = 'open'")),
        Index("ix_followup_card_due_all", "next_visit_due", "id", sqlite_where=text("status = 'open'")),
        Index("ix_followup_card_customer", "customer_id", "id"),
        Index("ix_followup_card_review", "review_due", "id", sqlite_where=text("reviewed_at IS NULL")),
        Index("ix_followup_card_status", "status", "id"),
        Index("ix_followup_card_date", "card_date"),  # reports: conversion of the cards opened in a period
    )
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(sa_column=Column(String(20), nullable=False, unique=True))
    customer_id: int = Field(foreign_key="customer.id")
    owner_id: int = Field(foreign_key="staff.id")
    register_id: int | None = Field(default=None, foreign_key="register_entry.id")
    card_date: date
    first_reception_date: date
    first_reception_summary: str | None = None
    intent_level: str
    product: str | None = None
    configuration: str | None = None
    budget: str | None = None
    purchase_method: str | None = None
    intended_use: str | None = None
    alternatives: str | None = None
    source: str
    favourable: str | None = None
    unfavourable: str | None = None
    resources_needed: str | None = None
    next_visit_plan: str | None = None
    next_visit_due: date | None = None
    next_due_reason: str | None = None  # set when the date was chosen by hand
    status: str = "open"  # open | won | lost | void
    status_reason: str | None = None
    closed_at: datetime | None = None
    review_due: date
    reviewed_at: datetime | None = None
    reviewed_by_id: int | None = Field(default=None, foreign_key="staff.id")
    review_comment: str | None = None
    last_visit_at: datetime | None = None
    visits: int = 0
    version: int = 1
    created_at: datetime
    created_by_id: int | None = Field(default=None, foreign_key="staff.id")
    updated_at: datetime
    updated_by_id: int | None = Field(default=None, foreign_key="staff.id")


class FollowupVisit(SQLModel, table=True):
    """One visit record (访问记录, R-FU-2, R-FU-6)."""

    __tablename__ = "followup_visit"
    __table_args__ = (
        Index("ix_followup_visit_card", "card_id", "at"),
        Index("ix_followup_visit_at", "at", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    card_id: int = Field(foreign_key="followup_card.id")
    at: datetime
    method: str
    participants: str | None = None
    content: str | None = None  # NULL after erasure
    feedback: str | None = None
    objections: str | None = None
    next_action: str | None = None
    level_before: str
    level_after: str
    next_due: date | None = None
    next_due_reason: str | None = None
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime


class RegisterEntry(SQLModel, table=True):
    """One line of the front-desk register (来店/来电登记表, R-FU-4)."""

    __tablename__ = "register_entry"
    __table_args__ = (
        Index("ix_register_entry_arrived", "arrived_at", "id"),
        Index("ix_register_entry_customer", "customer_id"),
        Index("ix_register_entry_unlinked", "arrived_at", "id", sqlite_where=text("customer_id IS NULL")),
    )
    id: int | None = Field(default=None, primary_key=True)
    name: str
    phone: str | None = None  # national digits
    companions: str | None = None
    arrived_at: datetime
    departed_at: datetime | None = None
    product: str | None = None
    source: str | None = None  # required on entry; NULL only in imported/legacy lines
    summary: str | None = None
    consultant_id: int | None = Field(default=None, foreign_key="staff.id")
    kind: str  # walk_in | call
    trial: bool = False
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    created_at: datetime
    created_by_id: int | None = Field(default=None, foreign_key="staff.id")


class OwnershipClaim(SQLModel, table=True):
    """A consultant asks to take over a customer another consultant owns (信息归属); a supervisor
    decides."""

    __tablename__ = "ownership_claim"
    __table_args__ = (Index("ix_ownership_claim_open", "id", sqlite_where=text("decided_at IS NULL")),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    claimant_id: int = Field(foreign_key="staff.id")
    owner_id: int | None = Field(default=None, foreign_key="staff.id")
    reason: str | None = None
    created_at: datetime
    decided_at: datetime | None = None
    decided_by_id: int | None = Field(default=None, foreign_key="staff.id")
    granted: bool | None = None
    decision_note: str | None = None


class RegisterCheck(SQLModel, table=True):
    """R-FU-4: the supervisor's resolution of a visit, card or contact of the day that had no line in
    the front-desk register: linked to a register line, or marked with a reason."""

    __tablename__ = "register_check"
    __table_args__ = (Index("ux_register_check_item", "kind", "ref_id", unique=True),
                      Index("ix_register_check_day", "day"))
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # visit | card | contact
    ref_id: int
    customer_id: int = Field(foreign_key="customer.id")
    day: date
    register_id: int | None = Field(default=None, foreign_key="register_entry.id")
    reason: str | None = None
    resolved_at: datetime
    resolved_by_id: int | None = Field(default=None, foreign_key="staff.id")

"""Customer archives (R-CUST-1..15, R-KPI-2): customers, phones, staff contacts, tags, consents,
contact log, handovers, the per-year number counter and the search index.

Field history is not stored here: every change is one audit entry (``audit_log`` +
``audit_value`` for personal values), read back by the timeline.
"""

from __future__ import annotations

from datetime import date

from pydantic import NaiveDatetime as datetime  # local wall-clock time, see models/__init__

from sqlalchemy import Column, Index, Integer, String, Table, Text, text
from sqlmodel import Field, SQLModel


class Customer(SQLModel, table=True):
    __tablename__ = "customer"
    __table_args__ = (
        # Filters: listing by a filter walks (value, not erased, id) backwards without a table lookup.
        Index("ix_customer_category", "category", "erased_at", "id"),
        Index("ix_customer_grade", "grade", "erased_at", "id"),
        Index("ix_customer_owner", "owner_id", "erased_at", "id"),
        # Search candidates checked against filters read this narrow index, not the wide table.
        Index("ix_customer_filter", "id", "category", "grade", "owner_id"),
        # Unique (1201): live ID numbers and credit codes (erasure sets them NULL); store/pending.py
        Index("ix_customer_id_number", "id_number", unique=True, sqlite_where=text("id_number IS NOT NULL")),
        Index("ix_customer_uscc", "uscc", unique=True, sqlite_where=text("uscc IS NOT NULL")),
        Index("ix_customer_incomplete", "incomplete_due", "id", sqlite_where=text("incomplete_due IS NOT NULL")),
        Index("ix_customer_phone_changes", "phone_changed_prev_at", "id",
              sqlite_where=text("phone_changed_prev_at IS NOT NULL")),
        # Covering for the "fewer than two staff in contact" list and count (owner_id read too).
        Index("ix_customer_important", "id", "owner_id", sqlite_where=text("important = 1 AND erased_at IS NULL")),
        Index("ix_customer_informing", "owner_id", "id", sqlite_where=text("needs_informing = 1")),
        Index("ix_customer_activity", "last_activity_at", "id", sqlite_where=text("erased_at IS NULL")),
        # Reports (services/reports.py): each aggregate is answered by one narrow covering index,
        # branch-wide and per owner. Not partial on erased_at: a partial index on that condition
        # alone drew unrelated queries (the planner scanned 1M rows through it, see 1002).
        Index("ix_customer_created", "created_at"),
        Index("ix_customer_owner_created", "owner_id", "created_at"),
        Index("ix_customer_category_grade", "category", "grade", "erased_at"),
        Index("ix_customer_owner_category", "owner_id", "erased_at", "category", "grade"),
        Index("ix_customer_owner_due", "owner_id", "incomplete_due", "erased_at"),
        Index("ix_customer_ratings", "credit_rating", "risk_rating", "erased_at"),
        # R-CUST-8: flagged until an inspection is recorded (migration 2001)
        Index("ix_customer_phone_inspection", "phone_inspection_since", "id",
              sqlite_where=text("phone_inspection_since IS NOT NULL")),
    )
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(sa_column=Column(String(20), nullable=False, unique=True))
    kind: str  # person | org
    name: str
    contact_person: str | None = None
    address: str | None = None
    postcode: str | None = None
    email: str | None = None
    # person
    gender: str | None = None
    birth_date: date | None = None
    occupation: str | None = None
    employer: str | None = None
    family_notes: str | None = None
    id_number: str | None = None
    # organisation
    legal_rep: str | None = None
    fax: str | None = None
    business_scope: str | None = None
    registered_capital: str | None = None  # decimal string, yuan
    uscc: str | None = None
    # relationship
    key_decision_makers: str | None = None
    business_needs: str | None = None
    cooperation_history: str | None = None
    credit_status: str | None = None
    bank_name: str | None = None
    bank_account: str | None = None
    notes: str | None = None
    # classification
    category: str | None = None
    industry: str | None = None
    size: str | None = None
    coop_since: int | None = None
    source: str | None = None
    credit_rating: str | None = None
    risk_rating: str | None = None
    grade: str | None = None  # read-only here: changed only by grade changes (R-GRD-4)
    owner_id: int | None = Field(default=None, foreign_key="staff.id")
    important: bool = False
    # R-CUST-3
    false_info: bool = False
    false_info_note: str | None = None
    false_info_at: datetime | None = None
    business_stopped: bool = False
    business_stop_note: str | None = None
    business_stopped_at: datetime | None = None
    # R-CUST-11
    needs_informing: bool = False
    # derived, kept by the services
    search_name: str | None = None
    search_pinyin: str | None = None
    missing_fields: str | None = None  # JSON {group: [fields]}
    incomplete_due: datetime | None = None
    phone_changed_at: datetime | None = None
    phone_changed_prev_at: datetime | None = None
    phone_inspection_since: datetime | None = None  # R-CUST-8: set by two changes, cleared by an inspection
    last_activity_at: datetime
    version: int = 1
    created_at: datetime
    created_by_id: int | None = Field(default=None, foreign_key="staff.id")
    updated_at: datetime
    updated_by_id: int | None = Field(default=None, foreign_key="staff.id")
    erased_at: datetime | None = None


class CustomerPhone(SQLModel, table=True):
    """R-CUST-7: a phone used by another customer is kept only with a reason, approved and reviewed."""

    __tablename__ = "customer_phone"
    __table_args__ = (
        Index("ix_customer_phone_national", "national"),
        Index("ix_customer_phone_customer", "customer_id"),
        Index("ix_customer_phone_review", "shared_review_due", "id", sqlite_where=text("shared_reason IS NOT NULL")),
    )
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    national: str
    e164: str
    kind: str  # mobile | landline
    label: str | None = None
    is_primary: bool = False
    shared_reason: str | None = None
    shared_approved_by_id: int | None = Field(default=None, foreign_key="staff.id")
    shared_approved_at: datetime | None = None
    shared_review_due: date | None = None
    # two signatures (section chief, deputy manager), then filed with internal control (备案)
    shared_chief_id: int | None = Field(default=None, foreign_key="staff.id")
    shared_chief_at: datetime | None = None
    shared_deputy_id: int | None = Field(default=None, foreign_key="staff.id")
    shared_deputy_at: datetime | None = None
    shared_filed_by_id: int | None = Field(default=None, foreign_key="staff.id")
    shared_filed_at: datetime | None = None
    created_at: datetime


class CustomerPhoneInspection(SQLModel, table=True):
    """R-CUST-8: the closer inspection of a customer whose phone changed twice in a month: who,
    when, what was found. Recording one clears the customer's flag."""

    __tablename__ = "customer_phone_inspection"
    __table_args__ = (Index("ix_phone_inspection_customer", "customer_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    flagged_at: datetime
    inspected_at: datetime
    inspected_by_id: int | None = Field(default=None, foreign_key="staff.id")
    result: str | None = None


class CustomerContactTask(SQLModel, table=True):
    """R-CUST-10: an important customer needs a second staff member in contact by ``due_at``;
    done when two active staff are in contact."""

    __tablename__ = "customer_contact_task"
    __table_args__ = (
        Index("ix_contact_task_open", "due_at", "id", sqlite_where=text("done_at IS NULL")),
        Index("ix_contact_task_customer", "customer_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    cause: str  # grade | important
    created_at: datetime
    due_at: datetime
    done_at: datetime | None = None


class CustomerStaff(SQLModel, table=True):
    """Additional staff in contact with the customer besides the responsible one (R-CUST-10)."""

    __tablename__ = "customer_staff"
    __table_args__ = (Index("ix_customer_staff_staff", "staff_id", "customer_id"),)
    customer_id: int = Field(foreign_key="customer.id", primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", primary_key=True)


class CustomerTag(SQLModel, table=True):
    __tablename__ = "customer_tag"
    __table_args__ = (Index("ix_customer_tag_tag", "tag", "customer_id"),)
    customer_id: int = Field(foreign_key="customer.id", primary_key=True)
    tag: str = Field(primary_key=True)


class CustomerConsent(SQLModel, table=True):
    """What the customer agreed to, when and how (R-CUST-6); marketing is its own scope."""

    __tablename__ = "customer_consent"
    __table_args__ = (Index("ix_customer_consent_customer", "customer_id", "scope"),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    purpose: str | None = None  # NULL after erasure
    scope: str  # basic | sensitive | marketing
    method: str
    given_at: date
    withdrawn_at: datetime | None = None
    note: str | None = None
    recorded_by_id: int | None = Field(default=None, foreign_key="staff.id")
    recorded_at: datetime


class CustomerContact(SQLModel, table=True):
    """The contact log (来往记录, R-CUST-14, R-FU-6)."""

    __tablename__ = "customer_contact"
    __table_args__ = (Index("ix_customer_contact_customer", "customer_id", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    at: datetime
    method: str
    participants: str | None = None
    summary: str | None = None  # NULL after erasure
    feedback: str | None = None
    next_action: str | None = None
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime


class CustomerHandover(SQLModel, table=True):
    """A staff member's customers moved to another (R-CUST-11)."""

    __tablename__ = "customer_handover"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    from_staff_id: int = Field(foreign_key="staff.id")
    to_staff_id: int = Field(foreign_key="staff.id")
    note: str | None = None
    count: int
    by_id: int | None = Field(default=None, foreign_key="staff.id")


class CustomerHandoverItem(SQLModel, table=True):
    __tablename__ = "customer_handover_item"
    __table_args__ = (Index("ix_handover_item_customer", "customer_id"),)
    handover_id: int = Field(foreign_key="customer_handover.id", primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", primary_key=True)
    informed_at: datetime | None = None
    informed_by_id: int | None = Field(default=None, foreign_key="staff.id")  # who told the customer
    informed_method: str | None = None  # how (phone, visit, letter ...)


class CustomerNumberSeq(SQLModel, table=True):
    """The last customer number given out per year; bumped inside the creating transaction."""

    __tablename__ = "customer_number_seq"
    year: int = Field(primary_key=True)
    last: int = 0


#: The search index (see crm_tui/domain/search_terms.py). WITHOUT ROWID: the primary key is the
#: table, so a lookup or a prefix range is one B-tree walk. Created by raw SQL in migration 0002;
#: declared here so autogenerate knows it.
search_term = Table(
    "search_term",
    SQLModel.metadata,
    Column("term", Text, primary_key=True),
    Column("customer_id", Integer, primary_key=True),
    sqlite_with_rowid=False,
)

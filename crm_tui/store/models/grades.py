"""Grade changes (R-GRD-1..4): applications with their two approvals, the grade history, the
filings with internal control (内管备案), review periods, and the administrator's grade standard.

``customer.grade`` is written only by the apply step of the grades service, in the same
transaction as the history row, the filing and the audit entry.
"""

from __future__ import annotations

from datetime import date

from pydantic import NaiveDatetime as datetime  # local wall-clock time, see models/__init__

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel


class GradeApplication(SQLModel, table=True):
    """等级变更申请表 (R-GRD-3). ``state``: see crm_tui/domain/grades.py."""

    __tablename__ = "grade_application"
    __table_args__ = (
        # One open application per customer (R-GRD-3).
        Index("ux_grade_application_open", "customer_id", unique=True,
              sqlite_where=text("state IN ('submitted', 'chief_approved', 'approved')")),
        Index("ix_grade_application_state", "state", "id"),
        Index("ix_grade_application_customer", "customer_id", "id"),
        Index("ix_grade_application_applicant", "applicant_id", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    from_grade: str | None = None  # fixed at filing
    to_grade: str
    reason: str
    evidence: str | None = None
    state: str
    applicant_id: int = Field(foreign_key="staff.id")
    filed_at: datetime
    period_id: int | None = Field(default=None, foreign_key="grade_review_period.id")
    chief_id: int | None = Field(default=None, foreign_key="staff.id")
    chief_at: datetime | None = None
    chief_comment: str | None = None
    deputy_id: int | None = Field(default=None, foreign_key="staff.id")
    deputy_at: datetime | None = None
    deputy_comment: str | None = None
    rejected_by_id: int | None = Field(default=None, foreign_key="staff.id")
    rejected_at: datetime | None = None
    reject_reason: str | None = None
    apply_due: datetime | None = None
    applied_by_id: int | None = Field(default=None, foreign_key="staff.id")
    applied_at: datetime | None = None
    version: int = 1


class GradeHistory(SQLModel, table=True):
    """Every grade a customer has had, and by which application."""

    __tablename__ = "grade_history"
    __table_args__ = (Index("ix_grade_history_customer", "customer_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    application_id: int = Field(foreign_key="grade_application.id", unique=True)
    from_grade: str | None = None
    to_grade: str
    changed_at: datetime
    changed_by_id: int = Field(foreign_key="staff.id")


class GradeFiling(SQLModel, table=True):
    """内管备案: an applied change reported to internal control, acknowledged by them."""

    __tablename__ = "grade_filing"
    __table_args__ = (Index("ix_grade_filing_open", "id", sqlite_where=text("acknowledged_at IS NULL")),)
    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="grade_application.id", unique=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    from_grade: str | None = None
    to_grade: str
    filed_at: datetime
    filed_by_id: int = Field(foreign_key="staff.id")
    acknowledged_by_id: int | None = Field(default=None, foreign_key="staff.id")
    acknowledged_at: datetime | None = None
    note: str | None = None


class GradeReviewPeriod(SQLModel, table=True):
    """等级评定期 (R-GRD-2): opened and closed by an administrator; reviewed within 3 working days."""

    __tablename__ = "grade_review_period"
    id: int | None = Field(default=None, primary_key=True)
    name: str
    start_date: date
    end_date: date
    opened_at: datetime
    opened_by_id: int = Field(foreign_key="staff.id")
    closed_at: datetime | None = None
    closed_by_id: int | None = Field(default=None, foreign_key="staff.id")
    review_due: datetime | None = None
    reviewed_at: datetime | None = None
    reviewed_by_id: int | None = Field(default=None, foreign_key="staff.id")


class GradeStandardRow(SQLModel, table=True):
    """The administrator's grade standard (R-GRD-1); empty = the shipped data/grades.toml."""

    __tablename__ = "grade_standard"
    code: str = Field(primary_key=True)
    name: str
    name_en: str
    rank: int
    description: str = ""
    description_en: str = ""
    contact_days: int
    criteria: str = "{}"  # JSON
    updated_at: datetime
    updated_by_id: int | None = Field(default=None, foreign_key="staff.id")


class GradeStandardChange(SQLModel, table=True):
    """R-GRD-1: a proposed grade standard, approved by the section chief and then the deputy
    manager before it replaces ``grade_standard``. One open proposal at a time."""

    __tablename__ = "grade_standard_change"
    __table_args__ = (Index("ux_grade_standard_change_open", "state", unique=True,
                            sqlite_where=text("state IN ('submitted', 'chief_approved')")),)
    id: int | None = Field(default=None, primary_key=True)
    proposed: str  # JSON of the whole standard
    reason: str
    state: str = Field(max_length=16)  # submitted | chief_approved | applied | rejected
    proposed_by_id: int = Field(foreign_key="staff.id")
    proposed_at: datetime
    chief_id: int | None = Field(default=None, foreign_key="staff.id")
    chief_at: datetime | None = None
    deputy_id: int | None = Field(default=None, foreign_key="staff.id")
    deputy_at: datetime | None = None
    rejected_by_id: int | None = Field(default=None, foreign_key="staff.id")
    rejected_at: datetime | None = None
    reject_reason: str | None = None

"""The branch's holiday schedule (issue 16): days off (休) and make-up working days (班) per date.

An entry here wins over the shipped chinese_calendar package for its date; a year with any entry
counts as covered (its official schedule is known). Every change is audited by the services.
"""

from __future__ import annotations

from datetime import date

from pydantic import NaiveDatetime as datetime  # local wall-clock time, see models/__init__

from sqlmodel import Field, SQLModel


class HolidayEntry(SQLModel, table=True):
    __tablename__ = "holiday_entry"
    day: date = Field(primary_key=True)
    kind: str  # off (休) | work (班)
    name: str
    updated_at: datetime
    updated_by_id: int | None = Field(default=None, foreign_key="staff.id")

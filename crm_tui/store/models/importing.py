"""Saved column mappings for spreadsheet imports (issue 9): header text -> archive field."""

from __future__ import annotations

from pydantic import NaiveDatetime as datetime  # local wall-clock time, see models/__init__

from sqlalchemy import Column, String, Text
from sqlmodel import Field, SQLModel


class ImportMapping(SQLModel, table=True):
    __tablename__ = "import_mapping"
    name: str = Field(sa_column=Column(String(60), primary_key=True))
    mapping: str = Field(sa_column=Column(Text, nullable=False))  # JSON {header: field}
    updated_at: datetime
    updated_by_id: int | None = Field(default=None, foreign_key="staff.id")

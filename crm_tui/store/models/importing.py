"""Saved column mappings for spreadsheet imports (issue 9): header text -> archive field."""

from __future__ import annotations

from pydantic import NaiveDatetime as datetime  # local wall-clock time, see models/__init__

from sqlalchemy import Column, Index, Integer, String, Text, text
from sqlmodel import Field, SQLModel


class ImportMapping(SQLModel, table=True):
    __tablename__ = "import_mapping"
    name: str = Field(sa_column=Column(String(60), primary_key=True))
    mapping: str = Field(sa_column=Column(Text, nullable=False))  # JSON {header: field}
    updated_at: datetime
    updated_by_id: int | None = Field(default=None, foreign_key="staff.id")


class ImportBatch(SQLModel, table=True):
    """One import run (issue 17): its customers (ids ``first_id``..``last_id``) stay hidden until
    ``state`` is ``published`` (store/pending.py); ``token`` names the lock file its process holds."""

    __tablename__ = "import_batch"
    __table_args__ = (Index("ix_import_batch_pending", "first_id", "last_id", sqlite_where=text("state <> 'published'")),)
    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(sa_column=Column(String(40), nullable=False, unique=True))
    state: str = Field(sa_column=Column(String(12), nullable=False))  # running | failed | published
    file: str = Field(sa_column=Column(Text, nullable=False))
    sha256: str | None = Field(default=None, sa_column=Column(String(64)))
    first_id: int
    last_id: int
    rows: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    started_by: str | None = Field(default=None, sa_column=Column(String(40)))
    started_at: datetime
    finished_at: datetime | None = None

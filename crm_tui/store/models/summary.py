"""The home dashboard's summary tables (issue 22, migration 2201): counts kept by triggers, defined
with their triggers in crm_tui/store/summary.py; declared here so the metadata matches the schema."""

from sqlalchemy import Column, Integer, Table, Text
from sqlmodel import SQLModel

from crm_tui.store.summary import TABLES

_TYPES = {"owner_id": Integer}

for _name, (_keys, _select) in TABLES.items():
    Table(_name, SQLModel.metadata,
          *[Column(k, _TYPES.get(k, Text), primary_key=True, nullable=False) for k in _keys],
          Column("n", Integer, nullable=False), sqlite_with_rowid=False)

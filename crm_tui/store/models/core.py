"""Foundation tables: settings, staff accounts and roles, A/B posts, the audit chain."""

from __future__ import annotations

from datetime import date

from pydantic import NaiveDatetime as datetime  # local wall-clock time, see models/__init__

from sqlalchemy import Column, Index, LargeBinary, String, text
from sqlmodel import Field, SQLModel


class AppMeta(SQLModel, table=True):
    __tablename__ = "app_meta"
    key: str = Field(primary_key=True)
    value: str


class AppSetting(SQLModel, table=True):
    """Settings an administrator may change (JSON values); defaults live in data/settings.toml."""

    __tablename__ = "app_setting"
    key: str = Field(primary_key=True)
    value: str
    updated_at: datetime
    updated_by_id: int | None = Field(default=None, foreign_key="staff.id")


class Staff(SQLModel, table=True):
    __tablename__ = "staff"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(sa_column=Column(String(40, collation="NOCASE"), unique=True, nullable=False))
    display_name: str
    password_hash: str
    password_set_at: datetime
    must_change_password: bool = True
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = None
    last_login_at: datetime | None = None
    approval_note: str | None = None  # R-SEC-1: whose approval opened the account
    created_at: datetime
    created_by_id: int | None = Field(default=None, foreign_key="staff.id")
    disabled_at: datetime | None = None


class StaffRole(SQLModel, table=True):
    __tablename__ = "staff_role"
    staff_id: int = Field(foreign_key="staff.id", primary_key=True)
    role: str = Field(primary_key=True)


class AbPost(SQLModel, table=True):
    """R-SEC-7: while ``absent`` is away, ``backup`` works their queues on their behalf."""

    __tablename__ = "ab_post"
    __table_args__ = (Index("ix_ab_post_backup", "backup_id", "start_date"),)
    id: int | None = Field(default=None, primary_key=True)
    absent_id: int = Field(foreign_key="staff.id", index=True)
    backup_id: int = Field(foreign_key="staff.id")
    start_date: date
    end_date: date
    note: str | None = None
    created_at: datetime
    created_by_id: int = Field(foreign_key="staff.id")
    revoked_at: datetime | None = None


class AuditLog(SQLModel, table=True):
    """Append-only, hash-chained. ``hash`` covers every column and the previous row's ``hash``
    (migration 2202 dropped the stored copy of it, ``prev_hash``, and the unique index on ``hash``:
    the chain is walked in id order). ``details`` is stored as ``store.audit.compact_details``
    writes it (2203: no commitments when the row's audit_value rows give them back, else in
    base64url); the hash covers ``expand_details`` of it. ``hash`` is stored as 32 bytes (2203).

    Personal values (names, phones, ID numbers) never sit here: they go to ``audit_value`` and the
    chain covers only a salted commitment to them, so erasing a customer (R-CUST-13) removes the
    values without breaking the chain.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_actor_at", "actor_id", "at"),
        Index("ix_audit_customer", "customer_id", "id"),
        Index("ix_audit_action_at", "action", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    actor_id: int | None = Field(default=None, foreign_key="staff.id")
    actor_name: str
    on_behalf_of_id: int | None = Field(default=None, foreign_key="staff.id")
    action: str
    entity: str | None = None
    entity_id: str | None = None
    customer_id: int | None = None
    details: str = "{}"
    hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # 32 bytes; read as store.audit.HASH_HEX


class AuditValue(SQLModel, table=True):
    """The personal old/new values of one audited field change, erasable per customer.

    WITHOUT ROWID, keyed by (audit_id, field) (migration 2202: no separate id and unique index);
    ``salt`` holds the 16 bytes whose hex the commitment covers."""

    __tablename__ = "audit_value"
    __table_args__ = (
        # only values tied to a customer later (register lines); NULL when audit_log.customer_id
        # says whose they are (migration 2203)
        Index("ix_audit_value_customer_id", "customer_id", sqlite_where=text("customer_id IS NOT NULL")),
        {"sqlite_with_rowid": False},
    )
    audit_id: int = Field(foreign_key="audit_log.id", primary_key=True)
    field: str = Field(primary_key=True)
    customer_id: int | None = None
    old_value: str | None = None
    new_value: str | None = None
    salt: bytes

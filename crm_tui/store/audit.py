"""Appending to and verifying the hash-chained audit table (R-SEC-3).

Appends happen inside the caller's write transaction (BEGIN IMMEDIATE), so the chain head read
here cannot move before the row is written, and the entry commits or rolls back with the change it
records. Nothing in the application updates or deletes audit rows.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from crm_tui.domain import audit as chain
from crm_tui.i18n import N_


@dataclass(frozen=True)
class PersonalChange:
    field: str
    old: str | None
    new: str | None


#: Storage form of ``details`` (issue 22, size): the ``personal`` commitments are stored in base64url
#: (43 characters) instead of hex (64). The hash covers the hex form (domain.audit, unchanged), so a
#: stored row is read back through :func:`expand_details`; both forms are JSON with the same keys.
_HEX = frozenset("0123456789abcdef")


def compact_details(text_: str) -> str:
    """The stored form of canonical ``details``; ``text_`` itself when it has no hex commitments or
    would not come back byte for byte from :func:`expand_details`."""
    if '"personal":' not in text_:
        return text_
    try:
        obj = json.loads(text_)
    except ValueError:
        return text_
    p = obj.get("personal") if isinstance(obj, dict) else None
    if not isinstance(p, dict) or not p or not all(
            isinstance(v, str) and len(v) == 64 and _HEX.issuperset(v) for v in p.values()):
        return text_
    obj["personal"] = {k: base64.urlsafe_b64encode(bytes.fromhex(v)).rstrip(b"=").decode() for k, v in p.items()}
    out = chain.canonical(obj)
    return out if expand_details(out) == text_ else text_


def expand_details(stored: str) -> str:
    """The canonical ``details`` text the row's hash covers, from its stored form."""
    if not stored or '"personal":' not in stored:
        return stored
    try:
        obj = json.loads(stored)
    except ValueError:
        return stored
    p = obj.get("personal") if isinstance(obj, dict) else None
    if not isinstance(p, dict) or not p or not all(isinstance(v, str) and len(v) == 43 for v in p.values()):
        return stored
    try:
        obj["personal"] = {k: base64.urlsafe_b64decode(v + "=").hex() for k, v in p.items()}
    except ValueError:
        return stored
    return chain.canonical(obj)


def _salt_text(salt: Any) -> str:
    """audit_value.salt is stored as 16 bytes (older rows may hold its 32-hex text)."""
    return salt.hex() if isinstance(salt, bytes | bytearray | memoryview) else str(salt)


def _salt_stored(salt: str) -> bytes | str:
    try:
        raw = bytes.fromhex(salt)
    except ValueError:
        return salt
    return raw if raw.hex() == salt else salt


def _head(session: Session) -> tuple[int, str]:
    row = session.execute(text("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")).first()
    return (row[0], row[1]) if row else (0, chain.GENESIS)


def append(
    session: Session,
    *,
    at: datetime,
    actor_id: int | None,
    actor_name: str,
    action: str,
    entity: str | None = None,
    entity_id: str | int | None = None,
    customer_id: int | None = None,
    details: dict[str, Any] | None = None,
    on_behalf_of_id: int | None = None,
    personal: Iterable[PersonalChange] = (),
) -> int:
    details = dict(details or {})
    values = []
    commitments = {}
    for change in personal:
        salt = chain.new_salt()
        commitments[change.field] = chain.commitment(salt, change.field, change.old, change.new)
        values.append((change, salt))
    if commitments:
        details["personal"] = commitments
    last_id, prev = _head(session)
    row = {
        "id": last_id + 1,
        "at": at,
        "actor_id": actor_id,
        "actor_name": actor_name,
        "on_behalf_of_id": on_behalf_of_id,
        "action": action,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "customer_id": customer_id,
        "details": chain.canonical(details),
    }
    row["hash"] = chain.row_hash(prev, row)
    session.execute(
        text(
            "INSERT INTO audit_log (id, at, actor_id, actor_name, on_behalf_of_id, action, entity, entity_id,"
            " customer_id, details, hash) VALUES (:id, :at, :actor_id, :actor_name,"
            " :on_behalf_of_id, :action, :entity, :entity_id, :customer_id, :details, :hash)"
        ),
        {**row, "at": at.isoformat(sep=" ", timespec="microseconds"), "details": compact_details(row["details"])},
    )
    for change, salt in values:
        session.execute(
            text(
                "INSERT INTO audit_value (audit_id, customer_id, field, old_value, new_value, salt)"
                " VALUES (:a, :c, :f, :o, :n, :s)"
            ),
            {"a": row["id"], "c": customer_id, "f": change.field, "o": change.old, "n": change.new,
             "s": _salt_stored(salt)},
        )
    return row["id"]


def append_many(session: Session, entries: Iterable[dict[str, Any]]) -> list[int]:
    """Append many entries at once (demo data, imports): the same rows :func:`append` would write,
    chained in order, inserted with two executemany calls. Each entry holds :func:`append`'s
    keyword arguments (``at``, ``actor_id``, ``actor_name``, ``action`` and the optional ones)."""
    last_id, prev = _head(session)
    rows: list[dict[str, Any]] = []
    value_rows: list[dict[str, Any]] = []
    for e in entries:
        details = dict(e.get("details") or {})
        commitments = {}
        for change in e.get("personal", ()):
            salt = chain.new_salt()
            commitments[change.field] = chain.commitment(salt, change.field, change.old, change.new)
            value_rows.append({"a": last_id + 1, "c": e.get("customer_id"), "f": change.field, "o": change.old,
                               "n": change.new, "s": _salt_stored(salt)})
        if commitments:
            details["personal"] = commitments
        entity_id = e.get("entity_id")
        row = {
            "id": last_id + 1,
            "at": e["at"],
            "actor_id": e.get("actor_id"),
            "actor_name": e["actor_name"],
            "on_behalf_of_id": e.get("on_behalf_of_id"),
            "action": e["action"],
            "entity": e.get("entity"),
            "entity_id": None if entity_id is None else str(entity_id),
            "customer_id": e.get("customer_id"),
            "details": chain.canonical(details),
        }
        row["hash"] = chain.row_hash(prev, row)
        prev = row["hash"]
        last_id += 1
        rows.append({**row, "at": row["at"].isoformat(sep=" ", timespec="microseconds"),
                     "details": compact_details(row["details"])})
    if rows:
        session.execute(
            text(
                "INSERT INTO audit_log (id, at, actor_id, actor_name, on_behalf_of_id, action, entity, entity_id,"
                " customer_id, details, hash) VALUES (:id, :at, :actor_id, :actor_name,"
                " :on_behalf_of_id, :action, :entity, :entity_id, :customer_id, :details, :hash)"
            ),
            rows,
        )
    if value_rows:
        session.execute(
            text(
                "INSERT INTO audit_value (audit_id, customer_id, field, old_value, new_value, salt)"
                " VALUES (:a, :c, :f, :o, :n, :s)"
            ),
            value_rows,
        )
    return [r["id"] for r in rows]


BREAK_REASONS = {
    "missing": N_("a row is missing"),
    "link": N_("its link to the previous row is broken"),
    "content": N_("its content was changed"),
    "value": N_("a personal value recorded with it was changed"),
}


@dataclass(frozen=True)
class ChainReport:
    rows: int
    head: str
    first_broken: int | None
    reason: str | None

    @property
    def reason_text(self) -> str:
        from crm_tui.i18n import _

        return _(BREAK_REASONS[self.reason]) if self.reason in BREAK_REASONS else ""


def _parse_at(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def verify(session: Session, batch: int = 5000) -> ChainReport:
    """Walk the whole chain in id order; name the first row whose hash, link or values do not match."""
    prev = chain.GENESIS
    expected_id = 1
    count = 0
    last = 0
    while True:
        rows = session.execute(
            text(
                "SELECT id, at, actor_id, actor_name, on_behalf_of_id, action, entity, entity_id, customer_id,"
                " details, hash FROM audit_log WHERE id > :last ORDER BY id LIMIT :n"
            ),
            {"last": last, "n": batch},
        ).mappings().all()
        if not rows:
            break
        ids = [r["id"] for r in rows]
        values: dict[int, list[Any]] = {}
        for v in session.execute(
            text(
                "SELECT audit_id, field, old_value, new_value, salt FROM audit_value"
                " WHERE audit_id BETWEEN :lo AND :hi"
            ),
            {"lo": ids[0], "hi": ids[-1]},
        ):
            values.setdefault(v[0], []).append(v)
        for r in rows:
            if r["id"] != expected_id:
                return ChainReport(count, prev, expected_id, "missing")
            data = dict(r)
            data["at"] = _parse_at(r["at"])
            data["details"] = expand_details(r["details"])
            # Each hash covers the previous row's (no stored copy of it since migration 2202): an
            # edited, re-hashed row breaks the next row's hash.
            if chain.row_hash(prev, data) != r["hash"]:
                return ChainReport(count, prev, r["id"], "content")
            committed = chain_details_personal(data["details"])
            for _aid, field, old, new, salt in values.get(r["id"], []):
                if committed.get(field) != chain.commitment(_salt_text(salt), field, old, new):
                    return ChainReport(count, prev, r["id"], "value")
            prev = r["hash"]
            expected_id += 1
            count += 1
        last = ids[-1]
    return ChainReport(count, prev, None, None)


def chain_details_personal(details: str) -> dict[str, str]:
    try:
        return dict(json.loads(details).get("personal", {}))
    except (ValueError, AttributeError):
        return {}


def iter_rows(session: Session, where: str, params: dict[str, Any], limit: int) -> Iterator[dict[str, Any]]:
    sql = (
        "SELECT a.id, a.at, a.actor_name, a.on_behalf_of_id, a.action, a.entity, a.entity_id, a.customer_id,"
        " a.details FROM audit_log a" + (f" WHERE {where}" if where else "") + " ORDER BY a.id DESC LIMIT :limit"
    )
    for r in session.execute(text(sql), {**params, "limit": limit}).mappings():
        row = dict(r)
        row["details"] = expand_details(row["details"])
        yield row

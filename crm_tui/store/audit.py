"""Appending to and verifying the hash-chained audit table (R-SEC-3).

Appends happen inside the caller's write transaction (BEGIN IMMEDIATE), so the chain head read
here cannot move before the row is written, and the entry commits or rolls back with the change it
records. Nothing in the application deletes audit rows or changes what they hash; the one update is
of a stored form: an erasure puts back the commitments its deleted values used to give
(:func:`pin_commitments`, migration 2203).
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
from crm_tui.store.audit_sql import HASH_HEX  # audit_log.hash as hex (defined where start-up can read it)


@dataclass(frozen=True)
class PersonalChange:
    field: str
    old: str | None
    new: str | None


#: Storage form of ``details`` (issue 22, size). The hash covers the canonical text with the
#: ``personal`` commitments in hex (domain.audit, unchanged); what is stored is smaller:
#:
#: - (2203) no ``personal`` key at all when every commitment is reproduced from the row's own
#:   ``audit_value`` rows (they hold field, old, new and salt): :func:`expand_details` rebuilds it
#:   from them. Checked when the row is written: the rebuilt text must equal the hashed text.
#: - (2202) otherwise the commitments in base64url (43 characters) instead of hex (64).
#:
#: The one rewrite of a stored form: before an erasure deletes the values, the rows that relied on
#: them get their commitments back in the 2202 form (:func:`pin_commitments`); the hashed text does
#: not change, so the chain still verifies.
_HEX = frozenset("0123456789abcdef")

#: (field, old, new, salt) of one audit_value row; salt as stored (16 bytes) or as hex text.
Value = tuple[str, "str | None", "str | None", Any]


def compact_details(text_: str, values: Iterable[Value] = ()) -> str:
    """The stored form of canonical ``details``; ``text_`` itself when it has no hex commitments or
    would not come back byte for byte from :func:`expand_details` (with the same ``values``)."""
    if '"personal":' not in text_:
        return text_
    try:
        obj = json.loads(text_)
    except ValueError:
        return text_
    p = obj.get("personal") if isinstance(obj, dict) else None
    values = list(values)
    if values and isinstance(p, dict) and p:
        out = chain.canonical({k: v for k, v in obj.items() if k != "personal"})
        if expand_details(out, values) == text_:
            return out
    if not isinstance(p, dict) or not p or not all(
            isinstance(v, str) and len(v) == 64 and _HEX.issuperset(v) for v in p.values()):
        return text_
    obj["personal"] = {k: base64.urlsafe_b64encode(bytes.fromhex(v)).rstrip(b"=").decode() for k, v in p.items()}
    out = chain.canonical(obj)
    return out if expand_details(out) == text_ else text_


def expand_details(stored: str, values: Iterable[Value] = ()) -> str:
    """The canonical ``details`` text the row's hash covers, from its stored form and the row's
    ``audit_value`` rows (``values``; used only when the stored form has no ``personal``)."""
    if not stored:
        return stored
    has_personal = '"personal":' in stored
    values = values if isinstance(values, list | tuple) else list(values)
    if not has_personal and not values:
        return stored
    try:
        obj = json.loads(stored)
    except ValueError:
        return stored
    if not isinstance(obj, dict):
        return stored
    if "personal" in obj:
        p = obj["personal"]
        if not isinstance(p, dict) or not p or not all(isinstance(v, str) and len(v) == 43 for v in p.values()):
            return stored
        try:
            obj["personal"] = {k: base64.urlsafe_b64decode(v + "=").hex() for k, v in p.items()}
        except ValueError:
            return stored
        return chain.canonical(obj)
    if not values:
        return stored
    obj["personal"] = {f: chain.commitment(_salt_text(salt), f, old, new) for f, old, new, salt in values}
    return chain.canonical(obj)


def rebuilt(stored: str) -> bool:
    """Whether a row stored so needs its audit_value rows to give back the hashed text."""
    return '"personal":' not in stored or "personal" not in _loads(stored)


def _loads(text_: str) -> dict[str, Any]:
    try:
        obj = json.loads(text_)
    except ValueError:
        return {}
    return obj if isinstance(obj, dict) else {}


#: audit_value.customer_id (2203) holds only a tie made later (a register line's values given to
#: the customer it turned out to be, ``followups/register.tie_audit_values``); NULL when the row's
#: audit_log.customer_id says whose they are (ix_audit_customer finds those), so its index is
#: partial. A customer's values: those of its rows UNION the ones tied to it.


def customer_values(session: Session, customer_id: int, fields: Iterable[str] = ()) -> list[tuple[Any, ...]]:
    """(audit id, field, old, new) of the customer's audit values (its rows' and those tied to it)."""
    only = ",".join(f"'{f}'" for f in fields if f.isidentifier())
    cond = f" AND v.field IN ({only})" if only else ""
    return [tuple(r) for r in session.execute(text(
        "SELECT v.audit_id, v.field, v.old_value, v.new_value FROM audit_log a JOIN audit_value v ON v.audit_id = a.id"
        f" WHERE a.customer_id = :c AND v.customer_id IS NULL{cond}"
        " UNION ALL SELECT v.audit_id, v.field, v.old_value, v.new_value FROM audit_value v"
        f" WHERE v.customer_id = :c{cond} ORDER BY 1, 2"), {"c": customer_id})]


def delete_customer_values(session: Session, customer_id: int) -> None:
    """Erasure: the customer's audit values go, after :func:`pin_commitments` of their rows."""
    c = {"c": customer_id}
    pin_commitments(session, "SELECT audit_id FROM audit_value WHERE customer_id = :c"
                    " UNION SELECT id FROM audit_log WHERE customer_id = :c", c)
    session.execute(text("DELETE FROM audit_value WHERE customer_id IS NULL AND audit_id IN"
                         " (SELECT id FROM audit_log WHERE customer_id = :c)"), c)
    session.execute(text("DELETE FROM audit_value WHERE customer_id = :c"), c)


def values_of(session: Session, audit_ids: Iterable[int]) -> dict[int, list[Value]]:
    """audit id -> (field, old, new, salt) of its audit_value rows, in one query."""
    ids = ",".join(str(int(i)) for i in audit_ids)
    out: dict[int, list[Value]] = {}
    if not ids:
        return out
    for a, f, o, n, salt in session.execute(text(
            f"SELECT audit_id, field, old_value, new_value, salt FROM audit_value WHERE audit_id IN ({ids})")):
        out.setdefault(a, []).append((f, o, n, salt))
    return out


def pin_commitments(session: Session, audit_ids_sql: str, params: dict[str, Any]) -> int:
    """Before values are deleted: every row among ``audit_ids_sql`` (a SELECT of audit ids) whose
    stored details rely on its audit_value rows gets its commitments back in the stored form (2202,
    base64url). The hashed text is unchanged. Rows rewritten."""
    rows = session.execute(text(
        f"SELECT id, details FROM audit_log WHERE id IN ({audit_ids_sql})"), params).all()
    rows = [(i, d) for i, d in rows if rebuilt(d)]
    vals = values_of(session, [i for i, _d in rows]) if rows else {}
    updates = [{"i": i, "d": compact_details(expand_details(d, vals[i]))} for i, d in rows if vals.get(i)]
    if updates:
        session.execute(text("UPDATE audit_log SET details = :d WHERE id = :i"), updates)
    return len(updates)


def _salt_text(salt: Any) -> str:
    """audit_value.salt is stored as 16 bytes (older rows may hold its 32-hex text)."""
    return salt.hex() if isinstance(salt, bytes | bytearray | memoryview) else str(salt)


def _salt_stored(salt: str) -> bytes | str:
    try:
        raw = bytes.fromhex(salt)
    except ValueError:
        return salt
    return raw if raw.hex() == salt else salt


def hash_stored(hex_hash: str) -> bytes:
    return bytes.fromhex(hex_hash)


def _head(session: Session) -> tuple[int, str]:
    row = session.execute(text(f"SELECT id, {HASH_HEX} FROM audit_log ORDER BY id DESC LIMIT 1")).first()
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
        {**row, "at": at.isoformat(sep=" ", timespec="microseconds"), "hash": hash_stored(row["hash"]),
         "details": compact_details(row["details"], [(c.field, c.old, c.new, salt) for c, salt in values])},
    )
    for change, salt in values:
        session.execute(
            text(
                "INSERT INTO audit_value (audit_id, customer_id, field, old_value, new_value, salt)"
                " VALUES (:a, :c, :f, :o, :n, :s)"
            ),
            {"a": row["id"], "c": None, "f": change.field, "o": change.old, "n": change.new,
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
        own: list[Value] = []
        for change in e.get("personal", ()):
            salt = chain.new_salt()
            commitments[change.field] = chain.commitment(salt, change.field, change.old, change.new)
            own.append((change.field, change.old, change.new, salt))
            value_rows.append({"a": last_id + 1, "c": None, "f": change.field, "o": change.old,
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
        rows.append({**row, "at": row["at"].isoformat(sep=" ", timespec="microseconds"), "hash": hash_stored(row["hash"]),
                     "details": compact_details(row["details"], own)})
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
    # A row whose commitments are rebuilt from its values (2203): a changed value and a changed
    # content give the same wrong hash.
    "content_or_value": N_("its content or a personal value recorded with it was changed"),
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
                f" details, {HASH_HEX} AS hash FROM audit_log WHERE id > :last ORDER BY id LIMIT :n"
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
            own = [(f, o, n, salt) for _aid, f, o, n, salt in values.get(r["id"], ())]
            from_values = bool(own) and rebuilt(r["details"])
            data["details"] = expand_details(r["details"], own)
            # Each hash covers the previous row's (no stored copy of it since migration 2202): an
            # edited, re-hashed row breaks the next row's hash.
            if chain.row_hash(prev, data) != r["hash"]:
                return ChainReport(count, prev, r["id"], "content_or_value" if from_values else "content")
            if not from_values and own:
                committed = chain_details_personal(data["details"])
                for field, old, new, salt in own:
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
    rows = [dict(r) for r in session.execute(text(sql), {**params, "limit": limit}).mappings()]
    need = [r["id"] for r in rows if rebuilt(r["details"])]
    vals = values_of(session, need) if need else {}
    for row in rows:
        row["details"] = expand_details(row["details"], vals.get(row["id"], ()))
        yield row

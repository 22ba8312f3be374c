"""The audit chain's arithmetic: canonical form, row hash, commitments to personal values."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


def canonical(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def row_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    """sha256 over the previous hash and the row's content in canonical JSON."""
    payload = {
        "id": row["id"],
        "at": row["at"].isoformat(timespec="microseconds") if isinstance(row["at"], datetime) else str(row["at"]),
        "actor_id": row["actor_id"],
        "actor_name": row["actor_name"],
        "on_behalf_of_id": row["on_behalf_of_id"],
        "action": row["action"],
        "entity": row["entity"],
        "entity_id": row["entity_id"],
        "customer_id": row["customer_id"],
        "details": row["details"],
    }
    h = hashlib.sha256()
    h.update(prev_hash.encode())
    h.update(canonical(payload).encode())
    return h.hexdigest()


def new_salt() -> str:
    return secrets.token_hex(16)


def commitment(salt: str, field: str, old: str | None, new: str | None) -> str:
    """Binds the audit row to a personal value without revealing it; erasing salt+value unbinds it."""
    return hashlib.sha256(canonical([salt, field, old, new]).encode()).hexdigest()

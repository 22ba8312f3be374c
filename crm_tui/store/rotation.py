"""Key rotation that survives being killed at any step (R-SEC-4).

The keyring holds, per database, the *current* key (user name = the file's path) and during a
rotation a *pending* one (``<path>.pending``). Old keys are kept as *retired* entries
(``<path>.retired-<key id>``) so backups taken before the rotation still open on this machine.

Order, each step durable before the next:

1. ``retired``  the old key is copied to its retired entry (nothing can lose it any more);
2. ``pending``  a new random key goes into the pending entry;
3. ``rekeyed``  ``PRAGMA rekey`` re-encrypts every page in one transaction (atomic: the file opens
   with exactly one of the two keys, whatever happens);
4. ``promoted`` the current entry gets the new key;
5. ``done``     the pending entry is removed.

Opening tries the current key, then the pending one: a rotation killed after step 3 is finished by
the next open (:func:`resolve_key`), and one killed before it leaves the file on the old key with a
stale pending entry, which the next open removes. ``CRM_TUI_TEST_KILL_AT=<step>`` makes the process
kill itself (SIGKILL) right after that step, so tests can prove it.
"""

from __future__ import annotations

import hashlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from crm_tui.store.keys import KeyStore, new_key

STEPS = ("retired", "pending", "rekeyed", "promoted", "done")
KILL_ENV = "CRM_TUI_TEST_KILL_AT"


def key_id(key: bytes) -> str:
    """A short public name for a key (manifests, retired entries); reveals nothing about the key."""
    return hashlib.sha256(b"crm-tui key id\0" + key).hexdigest()[:16]


def pending_name(db_file: Path) -> Path:
    return Path(str(Path(db_file).resolve()) + ".pending")


def retired_name(db_file: Path, kid: str) -> Path:
    return Path(str(Path(db_file).resolve()) + f".retired-{kid}")


def _step(name: str) -> None:
    if os.environ.get(KILL_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _delete(keys: KeyStore, name: Path) -> None:
    delete = getattr(keys, "delete", None)
    if delete is not None:
        delete(name)


def _opens(db_file: Path, key: bytes) -> bool:
    from crm_tui.store.connection import WrongKey, raw_connect

    try:
        raw_connect(db_file, key).close()
        return True
    except WrongKey:
        return False


def resolve_key(db_file: Path, keys: KeyStore) -> bytes:
    """The key that opens the file: the current one, else the pending one (the interrupted rotation
    is then finished). Raises WrongKey when neither opens it; never changes the file."""
    from crm_tui.store.connection import raw_connect

    current = keys.get(db_file)
    pending = keys.get(pending_name(db_file))
    if current is not None and _opens(db_file, current):
        if pending is not None and pending != current:
            _delete(keys, pending_name(db_file))  # a rotation killed before its rekey: never used
        return current
    if pending is not None and _opens(db_file, pending):
        finish(db_file, keys, pending)
        return pending
    raw_connect(db_file, current or b"\0" * 32)  # raises WrongKey with the usual message
    raise AssertionError("unreachable")


def finish(db_file: Path, keys: KeyStore, pending: bytes) -> None:
    keys.put(db_file, pending)
    _step("promoted")
    _delete(keys, pending_name(db_file))
    _step("done")


def state(db_file: Path, keys: KeyStore) -> str:
    """'clean', 'stale_pending' (killed before the rekey) or 'unfinished' (rekeyed, not promoted)."""
    pending = keys.get(pending_name(db_file))
    if pending is None:
        return "clean"
    current = keys.get(db_file)
    if current is not None and _opens(db_file, current):
        return "clean" if pending == current else "stale_pending"
    return "unfinished" if _opens(db_file, pending) else "stale_pending"


@dataclass(frozen=True)
class Rotated:
    old_id: str
    new_id: str


def rotate(db_file: Path, keys: KeyStore) -> Rotated:
    """Re-encrypt the database with a new key. The caller holds the exclusive lock."""
    from crm_tui.store.connection import _key_pragma, raw_connect

    old = resolve_key(db_file, keys)
    new = new_key()
    keys.put(retired_name(db_file, key_id(old)), old)
    _step("retired")
    keys.put(pending_name(db_file), new)
    _step("pending")
    conn = raw_connect(db_file, old)
    try:
        conn.execute("PRAGMA rekey = " + _key_pragma(new).split("=", 1)[1].strip())
        _step("rekeyed")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        conn.close()
    if not _opens(db_file, new):  # never promote a key that does not open the file
        raise RuntimeError("rekey did not take")
    finish(db_file, keys, new)
    return Rotated(key_id(old), key_id(new))

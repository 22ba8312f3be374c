"""Damage anywhere in crm.db found at the start of the app and of every command (issue 17).

SQLCipher checks a page's HMAC when a query first reads that page, so a damaged page that nothing
reads at start would let the app start and fail later, in the middle of someone's work; and the
daily backup (which reads every page) runs only at the first start of a day. So every open that
finds the database closed everywhere else checks every page's HMAC (``PRAGMA
cipher_integrity_check``: reads the file, no decryption, no b-tree walk) before it opens it.

Cost: about 3.6 ms per MiB of file on one core (benchmarks/results/pagecheck.md: ~2 s at 100k
customers, ~20 s at 1M). So the check is skipped when the file is exactly as the last process left
it: a stamp beside it (``crm.db.checked``) records the file's identity (device, inode, size, mtime
and ctime in nanoseconds) after a clean check, and again when the last process that opened the
database through ``open_store`` closes it (its own writes are SQLite's, trusted). Anything that
changes the file outside crm-tui (a flipped byte, a copy over it, a restore, ``touch``) changes its
ctime, which no one can set back; a killed process leaves a ``-wal`` and its checkpoints change the
file without a new stamp: the next open checks every page again. What is not caught here: damage
while the app has the file open (the read of that page says so then, see services/damage.py) and a
disk that rots a page without telling the file system (the daily backup and ``doctor`` read every
page).

External damage cannot keep a page's HMAC valid without the key, so the HMAC check is enough here;
``integrity_check`` (the b-tree structure) runs in ``doctor`` and in every backup's verification.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import sqlcipher3.dbapi2 as sqlcipher

_FIELDS = ("st_dev", "st_ino", "st_size", "st_mtime_ns", "st_ctime_ns")


def stamp_path(db_file: Path) -> Path:
    return Path(db_file).with_name(Path(db_file).name + ".checked")


def file_state(db_file: Path) -> dict[str, int]:
    st = os.stat(db_file)
    return {f: int(getattr(st, f)) for f in _FIELDS}


def _wal(db_file: Path) -> Path:
    return Path(str(db_file) + "-wal")


def unchanged_since_check(db_file: Path) -> bool:
    """The file is as the last clean check or the last closing process left it (and no -wal waits)."""
    if _wal(db_file).exists():
        return False
    try:
        stamp = json.loads(stamp_path(db_file).read_text(encoding="utf-8"))
        return bool(stamp.get("state") == file_state(db_file))
    except (OSError, ValueError, AttributeError):
        return False


def write_stamp(db_file: Path) -> None:
    """Record the file as it is now as sound. Only when nobody has it open and no -wal waits."""
    if _wal(db_file).exists() or not Path(db_file).exists():
        return
    target = stamp_path(db_file)
    tmp = target.with_name(target.name + ".tmp")
    old = os.umask(0o077)
    try:
        tmp.write_text(json.dumps({"state": file_state(db_file)}), encoding="utf-8")
        os.replace(tmp, target)
    except OSError:
        tmp.unlink(missing_ok=True)  # no stamp: the next open checks again
    finally:
        os.umask(old)


def forget(db_file: Path) -> None:
    stamp_path(db_file).unlink(missing_ok=True)


def failing_pages(db_file: Path, key: bytes) -> list[str] | None:
    """``cipher_integrity_check``'s problems (empty: every page checks), or None when the key does
    not open the file (a wrong key or a damaged page 1: the open says which, store.db.diagnose)."""
    from crm_tui.store.connection import WrongKey, raw_connect

    try:
        conn = raw_connect(db_file, key)
    except WrongKey:
        return None
    try:
        try:
            return [str(r[0]) for r in conn.execute("PRAGMA cipher_integrity_check").fetchall()]
        except sqlcipher.DatabaseError as e:
            return [str(e)]
    finally:
        conn.close()


def check_at_open(db_file: Path, key: bytes) -> list[str]:
    """At an open that has the database to itself: every page's HMAC, unless the file is unchanged
    since the last check. Returns the problems (empty when sound or skipped); a clean check leaves
    the stamp."""
    if unchanged_since_check(db_file):
        return []
    problems = failing_pages(db_file, key)
    if problems is None:
        return []
    if problems:
        forget(db_file)
        return problems
    write_stamp(db_file)  # after the close: a -wal the open applied is in the file now
    return []

"""Telling a damaged database file from a wrong key (issue 17): the pages' HMACs read straight from
the file, SQLCipher's integrity checks, a -wal log whose frames fail their checksum, and the
messages for each. Reads only (a damaged -wal is copied aside before anything opens the file).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlcipher3.dbapi2 as sqlcipher

from crm_tui.clock import system_now
from crm_tui.i18n import N_
from crm_tui.store.connection import DatabaseDamaged, WrongKey, raw_connect


PAGE_SIZE = 4096
_RESERVE = 80  # SQLCipher 4: a 16-byte IV and a 64-byte HMAC-SHA512 at the end of each page
_HMAC_SIZE = 64


def page_count(db_file: Path) -> int:
    return Path(db_file).stat().st_size // PAGE_SIZE


def pages_that_check(db_file: Path, key: bytes, pages: list[int]) -> dict[int, bool]:
    """Whether each page's HMAC checks with ``key``, read straight from the file (SQLCipher 4
    defaults: HMAC-SHA512 over the page's ciphertext and IV and its number, little-endian, with a
    key derived from the raw key and the file's salt). Needs no working page 1: it tells a wrong
    key (no page checks) from a damaged first page (the others check)."""
    import hashlib
    import hmac

    out: dict[int, bool] = {}
    with Path(db_file).open("rb") as fh:
        salt = fh.read(16)
        if len(salt) < 16:
            return {p: False for p in pages}
        hkey = hashlib.pbkdf2_hmac("sha512", key, bytes(b ^ 0x3A for b in salt), 2, 32)
        for pg in pages:
            fh.seek((pg - 1) * PAGE_SIZE)
            page = fh.read(PAGE_SIZE)
            if len(page) < PAGE_SIZE:
                out[pg] = False
                continue
            body = page[16 if pg == 1 else 0:PAGE_SIZE - _HMAC_SIZE]
            mac = hmac.new(hkey, body + pg.to_bytes(4, "little"), hashlib.sha512).digest()
            out[pg] = hmac.compare_digest(mac, page[PAGE_SIZE - _HMAC_SIZE:])
    return out


@dataclass(frozen=True)
class Diagnosis:
    """What is wrong with a database file, for ``doctor``, the app's start, backup and restore.

    ``verdict``: ``ok``; ``wrong_key`` (page 1 does not decrypt and no other page checks with the
    key); ``damaged`` (the key is right - page 1 or other pages check - but a page or the structure
    fails); ``missing``."""

    verdict: str
    pages: tuple[int, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"


def _failing_pages(messages: list[str]) -> tuple[int, ...]:
    import re

    found = sorted({int(m.group(1)) for t in messages for m in [re.search(r"page (\d+)", t)] if m})
    return tuple(found)


def diagnose(db_file: Path, key: bytes, *, full: bool = True) -> Diagnosis:
    """Open the file with ``key`` and check it; never raises for a damaged or foreign file and never
    changes it beyond what opening does (a -wal is applied by SQLite as on every open).

    ``full``: run ``cipher_integrity_check`` (every page's HMAC) and ``integrity_check`` too; without
    it only page 1 and the schema are read (what every open does)."""
    db_file = Path(db_file)
    if not db_file.exists():
        return Diagnosis("missing")
    n = page_count(db_file)
    if n == 0:
        return Diagnosis("damaged", (1,), ("the file is shorter than one page",))
    try:
        conn = raw_connect(db_file, key)
    except WrongKey:
        sample = [p for p in (2, 3, 4, 5, n // 2, n - 1, n) if 1 < p <= n]
        checks = pages_that_check(db_file, key, [1, *dict.fromkeys(sample)])
        if checks.get(1):  # page 1 is sound, the schema on later pages is not
            bad = tuple(p for p, good in checks.items() if not good)
            return Diagnosis("damaged", bad, ("the schema does not read",))
        if any(checks.values()):
            return Diagnosis("damaged", (1,), ("page 1 does not decrypt, other pages do",))
        return Diagnosis("wrong_key")
    try:
        if not full:
            return Diagnosis("ok")
        try:
            cipher = [r[0] for r in conn.execute("PRAGMA cipher_integrity_check").fetchall()]
        except sqlcipher.DatabaseError as e:
            cipher = [str(e)]
        try:
            plain = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
            plain = [p for p in plain if p != "ok"]
        except sqlcipher.DatabaseError as e:
            plain = [str(e)]
        problems = cipher + plain
        if problems:
            return Diagnosis("damaged", _failing_pages(cipher), tuple(problems))
        return Diagnosis("ok")
    finally:
        conn.close()


def wal_damage(db_file: Path) -> tuple[int, int] | None:
    """(first bad frame, frames) when the -wal file beside the database is damaged: a frame fails its
    checksum and a later commit frame of the same log follows it. SQLite would stop at the bad frame
    and drop every change committed after it - silently - and the next close deletes the log. A bad
    frame at the end (a write torn by a crash) is normal and is not reported. Reads only."""
    import struct

    wal = Path(str(db_file) + "-wal")
    try:
        data = wal.read_bytes()
    except OSError:
        return None
    if len(data) < 32:
        return None
    magic, _version, page_size, _seq, salt1, salt2, c1, c2 = struct.unpack(">8I", data[:32])
    if magic not in (0x377F0682, 0x377F0683) or page_size < 512:
        return None
    word = struct.Struct(">2I" if magic == 0x377F0683 else "<2I")

    def checksum(chunk: bytes, s0: int, s1: int) -> tuple[int, int]:
        for x0, x1 in word.iter_unpack(chunk):
            s0 = (s0 + x0 + s1) & 0xFFFFFFFF
            s1 = (s1 + x1 + s0) & 0xFFFFFFFF
        return s0, s1

    if checksum(data[:24], 0, 0) != (c1, c2):
        return None  # an unused or reset log: SQLite ignores it
    size = 24 + page_size
    frames = (len(data) - 32) // size
    s0, s1 = c1, c2
    for i in range(frames):
        off = 32 + i * size
        pgno, commit, f1, f2, k1, k2 = struct.unpack(">6I", data[off:off + 24])
        if (f1, f2) != (salt1, salt2):
            return None  # the rest is an older log's
        s0, s1 = checksum(data[off:off + 8] + data[off + 24:off + size], s0, s1)
        if (s0, s1) != (k1, k2):
            for j in range(i + 1, frames):
                o = 32 + j * size
                _p, later_commit, g1, g2 = struct.unpack(">4I", data[o:o + 16])
                if (g1, g2) == (salt1, salt2) and later_commit:
                    return i + 1, frames
            return None
    return None


def keep_damaged_wal(db_file: Path, now: datetime) -> Path:
    """A copy of a damaged -wal in the data folder (``crm.db-wal.damaged-<time>``), before anything
    opens the database (an open applies what it can and the close deletes the log)."""
    import shutil

    wal = Path(str(db_file) + "-wal")
    target = wal.with_name(f"{wal.name}.damaged-{now:%Y%m%d-%H%M%S}")
    if not target.exists():
        shutil.copy2(wal, target)
        os.chmod(target, 0o600)
    return target


def refuse_damaged_wal(db_file: Path) -> None:
    """Before an open: a damaged -wal is kept aside and said as DatabaseDamaged (nothing opened)."""
    found = wal_damage(db_file)
    if found is None:
        return
    kept = keep_damaged_wal(db_file, system_now())
    err = DatabaseDamaged(DAMAGED_WAL, path=str(db_file), frame=found[0], frames=found[1], kept=kept.name)
    err.diagnosis = Diagnosis("damaged", (), (f"wal:{found[0]}/{found[1]}", f"kept:{kept.name}"))  # type: ignore[attr-defined]
    raise err


DAMAGED_WAL = N_("The write-ahead log of {path} (its -wal file) is damaged at frame {frame} of {frames}: changes "
                 "committed after it cannot be applied. A copy is kept as {kept}; the database was not opened.")


def damaged_or(db_file: Path, key: bytes, *, full: bool) -> None:
    """Raise DatabaseDamaged (with the diagnosis) when the file is damaged; else return."""
    d = diagnose(db_file, key, full=full)
    if d.verdict == "damaged":
        err = DatabaseDamaged(DAMAGED_FILE, pages=d.pages, path=str(db_file))
        err.diagnosis = d  # type: ignore[attr-defined]
        raise err


DAMAGED_FILE = N_("The database file {path} is damaged; the key is right. Nothing was changed.")


def integrity_checks(conn: sqlcipher.Connection) -> tuple[list[str], list[str]]:
    """(cipher_integrity_check problems, integrity_check problems): empty lists when all is well."""
    cipher = [r[0] for r in conn.execute("PRAGMA cipher_integrity_check").fetchall()]
    plain = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
    return cipher, [p for p in plain if p != "ok"]

"""Encrypted backup copies with a manifest (R-SEC-5). Issue 9 builds rotation and restore on this."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from crm_tui.i18n import N_
from crm_tui.store import paths
from crm_tui.store.db import copy_encrypted, integrity_checks, raw_connect


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    manifest: dict

    @property
    def taken_at(self) -> datetime:
        return datetime.fromisoformat(self.manifest["taken_at"])


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def make_backup(db_file: Path, key: bytes, *, reason: str, dest: Path | None = None,
                now: datetime | None = None) -> BackupInfo:
    now = now or datetime.now()
    dest = dest or paths.backups_dir(db_file.parent)
    paths.ensure_private_dir(dest)
    name = f"crm-{now:%Y%m%d-%H%M%S}-{reason}.db"
    target = dest / name
    conn = raw_connect(db_file, key)
    try:
        copy_encrypted(conn, target)
    finally:
        conn.close()
    copy = raw_connect(target, key)  # the manifest describes the copy itself: one consistent snapshot
    try:
        tables = [r[0] for r in copy.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        counts = {t: copy.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
        version = copy.execute("SELECT version_num FROM alembic_version").fetchone() if "alembic_version" in tables else None
        head = copy.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone() if "audit_log" in tables else None
    finally:
        copy.close()
    manifest = {
        "format": 1,
        "taken_at": now.isoformat(timespec="seconds"),
        "reason": reason,
        "source": str(db_file),
        "schema_version": version[0] if version else None,
        "row_counts": counts,
        "audit_head": {"id": head[0], "hash": head[1]} if head else None,
        "sha256": _sha256(target),
        "size": target.stat().st_size,
    }
    mpath = target.with_suffix(".json")
    old_umask = os.umask(0o077)
    try:
        mpath.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    finally:
        os.umask(old_umask)
    return BackupInfo(target, manifest)


def list_backups(data_dir: Path) -> list[BackupInfo]:
    folder = paths.backups_dir(data_dir)
    found = []
    if folder.is_dir():
        for m in folder.glob("crm-*.json"):
            db = m.with_suffix(".db")
            if db.exists():
                try:
                    found.append(BackupInfo(db, json.loads(m.read_text(encoding="utf-8"))))
                except (ValueError, OSError):
                    continue
    return sorted(found, key=lambda b: b.manifest.get("taken_at", ""))


PROBLEMS = {
    "checksum": N_("the file's checksum differs from its manifest"),
    "open": N_("it does not open with the key"),
    "cipher_integrity": N_("the encrypted pages fail their check"),
    "integrity": N_("the database structure is damaged"),
}


def problem_text(code: str) -> str:
    from crm_tui.i18n import _

    if code.startswith("rows:"):
        return _("row count of {table} differs from the manifest", table=code[5:])
    return _(PROBLEMS[code]) if code in PROBLEMS else code


def verify_backup(info: BackupInfo, key: bytes) -> list[str]:
    """Problems found in one backup (empty when it is sound)."""
    problems = []
    if _sha256(info.path) != info.manifest.get("sha256"):
        problems.append("checksum")
    try:
        conn = raw_connect(info.path, key)
    except Exception:  # noqa: BLE001 - any failure to open is a finding, reported by name
        return problems + ["open"]
    try:
        cipher, plain = integrity_checks(conn)
        if cipher:
            problems.append("cipher_integrity")
        if plain:
            problems.append("integrity")
        for table, expected in info.manifest.get("row_counts", {}).items():
            got = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            if got != expected:
                problems.append(f"rows:{table}")
    finally:
        conn.close()
    return problems

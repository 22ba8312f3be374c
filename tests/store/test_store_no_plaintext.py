"""No plaintext at rest: names and phone numbers written through services never appear in the bytes
of crm.db, crm.db-wal, crm.db-shm, a backup, or any other file of the data folder (R-SEC-4).

A positive control decrypts the same file with the independent reader and finds the values there,
so the negative checks are not vacuous.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from crm_tui.services import staff
from crm_tui.store import backup as backup_store
from crm_tui.store.audit import PersonalChange
from tests.helpers import sqlcipher4

NAMES = ["张伟", "王秀英", "欧阳娜娜", "李建国"]
PHONES = ["13812345678", "15987654321", "0571-88886666"]
SECRETS = [s.encode("utf-8") for s in NAMES + PHONES]


def _write_personal_data(env) -> None:  # type: ignore[no-untyped-def]
    svc, admin = env.svc, env.admin
    for i, name in enumerate(NAMES):
        staff.add_user(svc, admin, f"user{i}", ["front_desk"], display_name=name, approval_note="王科长")
    with svc.write(admin) as tx:
        tx.audit("test.contact", entity="customer", entity_id=1, customer_id=1,
                 details={"note": f"{NAMES[0]} 来电 {PHONES[0]}"},
                 personal=[PersonalChange("name", NAMES[1], NAMES[2]),
                           PersonalChange("phone", PHONES[1], PHONES[2])])


def _leaks(folder: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = f.read_bytes()
        hits = [s.decode() for s in SECRETS if s in data]
        if hits:
            found[str(f)] = hits
    return found


def test_no_plaintext_in_database_wal_shm_or_backup(services, tmp_path):
    _write_personal_data(services)
    data_dir = services.place.data_dir
    db_file = data_dir / "crm.db"
    wal, shm = Path(f"{db_file}-wal"), Path(f"{db_file}-shm")

    # While the app holds the database open: the fresh writes sit in the WAL.
    assert wal.exists() and wal.stat().st_size > 0 and shm.exists()
    assert _leaks(data_dir) == {}

    key = services.place.key_store.get(db_file)
    info = backup_store.make_backup(db_file, key, reason="test")
    assert info.path.is_file() and info.path.is_relative_to(data_dir)  # so _leaks(data_dir) reads it
    assert _leaks(data_dir) == {}

    services.svc.close()
    assert not wal.exists() or wal.stat().st_size == 0  # checkpointed on the last close
    assert _leaks(data_dir) == {}

    # Positive control: the values really are in the file, readable with the key.
    plain = tmp_path / "plain.db"
    sqlcipher4.decrypt(db_file, key, plain)
    conn = sqlite3.connect(plain)
    try:
        names = {r[0] for r in conn.execute("SELECT display_name FROM staff")}
        values = {v for r in conn.execute("SELECT old_value, new_value FROM audit_value") for v in r}
    finally:
        conn.close()
    assert set(NAMES) <= names
    assert {NAMES[1], NAMES[2], PHONES[1], PHONES[2]} <= values
    assert any(s in plain.read_bytes() for s in SECRETS)

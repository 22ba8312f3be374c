"""Fault tests (issue 17, item 8): one flipped byte on the first, a middle and the last page of crm.db,
of its -wal and of a backup. For each: the doctor verdict, the app's start, a backup and a restore,
through the real CLI in subprocesses. No traceback, the right diagnosis, nothing of value deleted.

SQLCipher pages are 4096 bytes with an HMAC each: a flipped byte fails its page's check. A flipped
byte in a -wal frame breaks the log's checksum chain at that frame."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers import cli

P = cli.PASSWORD
PAGE = 4096


def _admin(run_cli, *args: str, extra: str = ""):  # type: ignore[no-untyped-def]
    return run_cli("--user", "admin", "--password-stdin", *args, input=f"{P}\n{extra}")


def _flip(path: Path, where: str) -> int:
    """Flip one byte inside the first, a middle or the last page (past page 1's 16-byte salt)."""
    data = bytearray(path.read_bytes())
    pages = len(data) // PAGE
    page = {"first": 1, "middle": pages // 2 + 1, "last": pages}[where]
    off = (page - 1) * PAGE + 1000
    data[off] ^= 0x01
    path.write_bytes(bytes(data))
    return page


def _code(run_cli) -> str:  # type: ignore[no-untyped-def]
    e = run_cli("--user", "admin", "--password-stdin", "key", "export", input=f"{P}\n{P}\n")
    assert e.returncode == 0, e.stderr
    return "\n".join(e.stdout.strip().splitlines()[-5:])


def _backups_yesterday(data_dir: Path) -> None:
    """Manifests dated yesterday: the next start takes its daily backup (which reads every page)."""
    day = (datetime.now() - timedelta(days=1)).isoformat(timespec="seconds")
    for m in (data_dir / "backups").glob("crm-*.json"):
        if m.name.endswith(".verified.json"):
            continue
        manifest = json.loads(m.read_text())
        manifest["taken_at"] = day
        m.write_text(json.dumps(manifest))


@pytest.fixture
def damaged_setup(cli_db, run_cli):  # type: ignore[no-untyped-def]
    """A database with a customer-free history, a verified manual backup and the recovery code."""
    r = _admin(run_cli, "user", "add", "jingli", "--role", "customer_manager", "--approval", "王科长")
    assert r.returncode == 0, r.stderr
    b = _admin(run_cli, "backup")
    assert b.returncode == 0, b.stderr
    backup = Path(b.stdout.split("Backup written: ")[1].split(" (")[0])
    return backup, _code(run_cli)


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_damaged_page_of_crm_db_diagnosed_start_refused_backup_refused_restore_works(
        where, damaged_setup, cli_db, cli_env, run_cli):
    backup, code = damaged_setup
    data_dir = cli_db.parent
    page = _flip(cli_db, where)
    damaged_bytes = cli_db.read_bytes()

    d = run_cli("doctor")
    cli.assert_clean_failure(d)
    assert d.returncode == 1
    assert "The database file is damaged" in d.stdout and "not a wrong key" in d.stdout, d.stdout
    assert f"page(s) {page} fail" in d.stdout or (page == 1 and "page 1, the file's header" in d.stdout), d.stdout
    assert f"crm-tui --data-dir {data_dir} restore {backup} --yes --recovery-code" in d.stdout, d.stdout
    assert "the key in the keyring does not open" not in d.stdout

    # the app's start: the daily backup (due: the backups look a day old) reads every page
    _backups_yesterday(data_dir)
    before = _names(data_dir / "backups")
    s = run_cli(timeout=60)
    cli.assert_clean_failure(s)
    assert s.returncode == 19 and "The database file is damaged" in s.stderr, s.stdout + s.stderr
    assert _names(data_dir / "backups") == before  # no backup, no .part, nothing pruned

    # a backup is refused cleanly (or, with page 1 damaged, cannot even sign in): said as damage
    bk = _admin(run_cli, "backup")
    cli.assert_clean_failure(bk)
    assert bk.returncode == 19 and "The database file is damaged" in bk.stderr, bk.stderr
    assert _names(data_dir / "backups") == before
    assert not (data_dir / "logs").exists()
    damaged_bytes = cli_db.read_bytes()  # the sign-in of 'backup' may have written its audit row

    # restore with the recovery code: the damaged file is kept aside, the chain compared and stated
    r = run_cli("restore", str(backup), "--yes", "--recovery-code", input=code + "\n")
    assert r.returncode == 0, r.stdout + r.stderr
    cli.assert_no_noise(r)
    kept = [p for p in data_dir.glob("damaged-*.db")]
    assert len(kept) == 1 and kept[0].read_bytes() == damaged_bytes
    assert "The damaged database is kept as" in r.stdout
    assert "newest verified" in r.stdout, r.stdout
    assert backup.exists()
    assert run_cli("doctor").returncode == 0
    v = _admin(run_cli, "audit", "verify")
    assert v.returncode == 0 and "Audit trail intact" in v.stdout, v.stdout + v.stderr


def test_restore_over_a_damaged_file_with_an_administrators_password_from_the_backup(
        damaged_setup, cli_db, run_cli):
    backup, _code_ = damaged_setup
    _flip(cli_db, "middle")
    wrong = run_cli("--user", "admin", "--password-stdin", "restore", str(backup), "--yes", input="nope\n")
    cli.assert_clean_failure(wrong)
    assert wrong.returncode == 3 and "as the backup" in wrong.stderr
    assert not list(cli_db.parent.glob("damaged-*.db"))  # refused: nothing moved
    # an account without backup.restore in the backup is refused too
    clerk = run_cli("--user", "jingli", "--password-stdin", "restore", str(backup), "--yes", input="x\n")
    cli.assert_clean_failure(clerk)
    r = _admin(run_cli, "restore", str(backup), "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "checked against the backup" in r.stdout
    assert run_cli("doctor").returncode == 0


def test_restore_when_the_database_is_missing_needs_an_authority(damaged_setup, cli_db, run_cli):
    backup, code = damaged_setup
    cli_db.unlink()
    nope = run_cli("restore", str(backup), "--yes")
    cli.assert_clean_failure(nope)
    assert "--recovery-code" in nope.stderr and not cli_db.exists()
    r = run_cli("restore", str(backup), "--yes", "--recovery-code", input=code + "\n")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "newest verified" in r.stdout
    assert run_cli("doctor").returncode == 0


_WRITER = r"""
import os, sys
from pathlib import Path
from crm_tui.store import db
key = bytes.fromhex(sys.stdin.read().strip())
c = db.raw_connect(Path(sys.argv[1]), key)
db._configure(c)
c.execute("PRAGMA wal_autocheckpoint = 0")
for i in range(12):  # twelve commits, one page of data each
    c.execute("INSERT INTO app_setting (key, value, updated_at) VALUES (?, ?, '2026-01-01 00:00:00')",
              (f"test.wal{i}", '"' + "x" * 3000 + '"'))
os._exit(0)  # killed: the log is not checkpointed
"""


def _wal_frames(wal: Path) -> int:
    return (wal.stat().st_size - 32) // (24 + PAGE)


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_damaged_frame_of_the_wal(where, damaged_setup, cli_db, cli_env, run_cli):
    backup, code = damaged_setup
    w = subprocess.run([sys.executable, "-c", _WRITER, str(cli_db)], input=cli.get_key_hex(cli_env, cli_db),
                       text=True, capture_output=True, env=cli_env, timeout=60)
    assert w.returncode == 0, w.stderr
    wal = Path(str(cli_db) + "-wal")
    frames = _wal_frames(wal)
    assert frames >= 12
    frame = {"first": 0, "middle": frames // 2, "last": frames - 1}[where]
    data = bytearray(wal.read_bytes())
    data[32 + frame * (24 + PAGE) + 24 + 1000] ^= 0x01
    wal.write_bytes(bytes(data))
    damaged_wal = wal.read_bytes()

    d = run_cli("doctor")
    cli.assert_no_noise(d)
    if where == "last":
        # a bad last frame is what a write torn by a crash leaves: SQLite drops that last commit, as
        # after a crash before it; the rest applies and the database checks
        assert d.returncode == 0, d.stdout
        return
    assert d.returncode == 1
    assert f"write-ahead log (the -wal file) is damaged at frame {frame + 1} of {frames}" in d.stdout, d.stdout
    assert f"--data-dir {cli_db.parent} restore" in d.stdout
    kept = list(cli_db.parent.glob("crm.db-wal.damaged-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == damaged_wal
    assert wal.read_bytes() == damaged_wal  # not opened, not applied, not deleted

    s = _admin(run_cli, "audit", "verify")  # a command: refused before it opens the file
    cli.assert_clean_failure(s)
    assert s.returncode == 19 and "write-ahead log" in s.stderr
    assert wal.read_bytes() == damaged_wal

    r = run_cli("restore", str(backup), "--yes", "--recovery-code", input=code + "\n")
    assert r.returncode == 0, r.stdout + r.stderr
    kept_db = list(cli_db.parent.glob("damaged-*.db-wal"))
    assert len(kept_db) == 1 and kept_db[0].read_bytes() == damaged_wal
    assert run_cli("doctor").returncode == 0


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_damaged_backup_is_found_refused_and_kept(where, damaged_setup, cli_db, run_cli):
    backup, code = damaged_setup
    _flip(backup, where)
    live = cli_db.read_bytes()
    v = run_cli("backup", "verify", str(backup))
    cli.assert_clean_failure(v)
    assert "damaged" in v.stdout
    d = run_cli("doctor")
    cli.assert_clean_failure(d)
    assert "FAIL newest backup" in d.stdout and "damaged" in d.stdout, d.stdout
    r = run_cli("restore", str(backup), "--yes", "--recovery-code", input=code + "\n")
    cli.assert_clean_failure(r)
    assert r.returncode == 21 and "failed verification" in r.stderr
    assert cli_db.read_bytes() == live
    b = _admin(run_cli, "backup")  # the database itself is sound: a new backup works
    assert b.returncode == 0, b.stderr
    assert backup.exists()  # a manual backup, damaged or not, goes only by 'backup delete'
    assert run_cli("doctor").returncode == 0


def test_doctor_finds_leftovers_and_the_start_tidies_them(damaged_setup, cli_db, cli_env, run_cli):
    backup, _ = damaged_setup
    folder = cli_db.parent / "backups"
    part = folder / "crm-20260101-000000-pre-import.db.part"
    part.write_bytes(b"\0" * 100)
    journal = folder / "crm-20260101-000000-pre-import.db.part-journal"
    journal.write_bytes(b"\0" * 10)
    orphan = folder / "crm-20260102-000000-manual.db"
    orphan.write_bytes(backup.read_bytes())
    junk = folder / "crm-20260103-000000-daily.db"
    junk.write_bytes(os.urandom(8192))
    old = datetime.now().timestamp() - 3600
    for f in (part, journal):
        os.utime(f, (old, old))
    d = run_cli("doctor")
    assert d.returncode == 1 and "2 unfinished copies (.part) and 2 backups without a manifest" in d.stdout, d.stdout
    _backups_yesterday(cli_db.parent)  # irrelevant to tidying; keeps the start from its daily copy path
    s = subprocess.run(
        [sys.executable, "-c",
         "from crm_tui.services import startup; from crm_tui.ui import launch; "
         "svc = startup.open_lazily(None); launch.tidy_backup_folder(svc); svc.close()"],
        env=cli_env, capture_output=True, text=True, timeout=60)
    assert s.returncode == 0, s.stderr
    assert not part.exists() and not journal.exists()
    assert orphan.with_suffix(".json").exists() and json.loads(orphan.with_suffix(".json").read_text())["reason"] == "adopted"
    assert junk.exists() and "crm-20260103-000000-daily.db" in s.stderr  # kept and reported, never deleted
    lst = _admin(run_cli, "backup", "list")
    assert orphan.name in lst.stdout


def test_restore_of_an_older_backup_over_a_damaged_file_states_the_newer_entries(damaged_setup, cli_db, run_cli):
    older, code = damaged_setup
    assert _admin(run_cli, "user", "add", "xiaoli", "--role", "front_desk", "--approval", "王科长").returncode == 0
    newer = _admin(run_cli, "backup")
    assert newer.returncode == 0
    newer_name = Path(newer.stdout.split("Backup written: ")[1].split(" (")[0]).name
    _flip(cli_db, "middle")
    r = run_cli("restore", str(older), "--yes", "--recovery-code", input=code + "\n")
    assert r.returncode == 0, r.stdout + r.stderr
    import re

    m = re.search(rf"Audit trail continues the newest verified backup {newer_name}, which has (\d+) newer entries", r.stdout)
    assert m and int(m.group(1)) >= 2, r.stdout  # the account and the backup after the older copy
    assert (cli_db.parent / "backups" / newer_name).exists()
    assert run_cli("doctor").returncode == 0


def test_a_middle_page_damaged_after_the_days_backup_stops_the_app_and_every_command(
        damaged_setup, cli_db, cli_env, run_cli):
    """The day's backup was already taken, so no start reads every page by copying it: the start
    of the app and of a command still find the damaged page (store/pagecheck.py), say it as damage
    with the restore command - never a wrong key - and exit 19; the restore replaces the file."""
    backup, code = damaged_setup
    data_dir = cli_db.parent
    s0 = _admin(run_cli, "user", "list")
    assert s0.returncode == 0, s0.stderr  # sound: the command runs, and its close stamps the file
    assert (data_dir / "crm.db.checked").exists()
    before = _names(data_dir / "backups")
    page = _flip(cli_db, "middle")
    stat = cli_db.stat()
    os.utime(cli_db, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # even with its time put back

    s = run_cli(timeout=60)  # the app's start (no daily backup due: one was taken today)
    cli.assert_clean_failure(s)
    assert s.returncode == 19, s.stdout + s.stderr
    assert "The database file is damaged" in s.stderr and f"page(s) {page} fail" in s.stderr, s.stderr
    assert f"crm-tui --data-dir {data_dir} restore {backup} --yes --recovery-code" in s.stderr, s.stderr
    assert "wrong key" not in s.stderr.replace("not a wrong key", "")
    for cmd in (("user", "list"), ("settings", "list")):
        c = _admin(run_cli, *cmd)
        cli.assert_clean_failure(c)
        assert c.returncode == 19 and f"page(s) {page} fail" in c.stderr, c.stderr
    assert _names(data_dir / "backups") == before

    r = run_cli("restore", str(backup), "--yes", "--recovery-code", input=code + "\n")
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(list(data_dir.glob("damaged-*.db"))) == 1
    ok = _admin(run_cli, "user", "list")
    assert ok.returncode == 0, ok.stderr
    assert run_cli("doctor").returncode == 0

"""Backups, verify, restore and key rotation through the real CLI in subprocesses (issue 9,
R-SEC-4, R-SEC-5). Real SQLCipher files, a keyrings.alt file keyring of the test's own."""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from crm_tui.store import db
from crm_tui.store.rotation import STEPS
from tests.helpers import cli

P = cli.PASSWORD


def _admin(run_cli, *args: str, extra: str = ""):  # type: ignore[no-untyped-def]
    return run_cli("--user", "admin", "--password-stdin", *args, input=f"{P}\n{extra}")


def _backup(run_cli, *args: str) -> Path:  # type: ignore[no-untyped-def]
    r = _admin(run_cli, "backup", *args)
    assert r.returncode == 0, r.stdout + r.stderr
    cli.assert_no_noise(r)
    m = re.search(r"Backup written: (\S+) \(", r.stdout)
    assert m, r.stdout
    return Path(m.group(1))


def _dump(db_file: Path, key: bytes) -> dict[str, list[tuple]]:
    conn = db.raw_connect(db_file, key)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {t: sorted(map(tuple, conn.execute(f'SELECT * FROM "{t}"').fetchall()), key=repr) for t in tables}
    finally:
        conn.close()


def _key(cli_env, db_file: Path) -> bytes:  # type: ignore[no-untyped-def]
    hexkey = cli.get_key_hex(cli_env, db_file)
    assert hexkey
    return bytes.fromhex(hexkey)


def test_backup_list_verify_files_private_R_SEC_5(cli_db, cli_env, run_cli):
    path = _backup(run_cli)
    assert path.parent == cli_db.parent / "backups"
    for f in (path, path.with_suffix(".json"), path.with_suffix(".verified.json")):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    manifest = json.loads(path.with_suffix(".json").read_text())
    assert manifest["schema_version"] and manifest["audit_head"]["id"] >= 1 and manifest["sha256"].startswith("sha256/64MiB:") and len(manifest["sha256"]) == 13 + 64
    assert manifest["row_counts"]["staff"] == 1 and manifest["key_id"]
    lst = _admin(run_cli, "backup", "list")
    assert lst.returncode == 0 and path.name in lst.stdout and "verified" in lst.stdout
    v = run_cli("backup", "verify", str(path))
    assert v.returncode == 0, v.stdout + v.stderr
    assert v.stdout.strip().endswith("verified")
    # the key never shows
    assert cli.get_key_hex(cli_env, cli_db) not in (lst.stdout + v.stdout).lower()


def test_backup_to_another_folder(cli_db, run_cli, tmp_path):
    path = _backup(run_cli, "--to", str(tmp_path / "usb"))
    assert path.parent == tmp_path / "usb" and path.exists()
    assert run_cli("backup", "verify", str(path)).returncode == 0


@pytest.mark.parametrize("damage", ["page", "manifest_rows", "truncate"])
def test_verify_catches_a_damaged_copy_R_SEC_5(damage, cli_db, run_cli):
    path = _backup(run_cli)
    if damage == "page":
        data = bytearray(path.read_bytes())
        data[20_000] ^= 0xFF
        path.write_bytes(bytes(data))
        expect = ["checksum", "encrypted pages fail their check"]
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:8192])
        expect = ["checksum"]
    else:
        mpath = path.with_suffix(".json")
        m = json.loads(mpath.read_text())
        m["row_counts"]["staff"] = 7
        mpath.write_text(json.dumps(m))
        expect = ["row count of staff differs from the manifest"]
    r = run_cli("backup", "verify", str(path))
    cli.assert_clean_failure(r)
    assert r.returncode == 1
    for words in expect:
        assert words in r.stdout, r.stdout


def test_restore_round_trip_equal_in_content_R_SEC_5(cli_db, cli_env, run_cli):
    key = _key(cli_env, cli_db)
    path = _backup(run_cli)
    saved = _dump(path, key)
    r = _admin(run_cli, "user", "add", "xiaoli", "--role", "front_desk", "--approval", "王科长")
    assert r.returncode == 0, r.stderr
    assert _admin(run_cli, "settings", "set", "security.idle_lock_minutes", "20").returncode == 0

    r = _admin(run_cli, "restore", str(path), "--yes")
    assert r.returncode == 0, r.stdout + r.stderr
    cli.assert_no_noise(r)
    assert "Audit trail continues" in r.stdout and "safety copy" in r.stdout
    after = _dump(cli_db, key)
    for table, rows in saved.items():
        if table in ("audit_log", "audit_value"):
            assert after[table][: len(rows)] == rows or set(rows) <= set(after[table])
        else:
            assert after[table] == rows, table
    # the restore itself is the newest audit entry, and the chain verifies
    conn = db.raw_connect(cli_db, key)
    try:
        action, details = conn.execute("SELECT action, details FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    assert action == "backup.restore" and '"continuity":"continuous"' in details
    assert _admin(run_cli, "audit", "verify").returncode == 0
    # the replaced database is kept, and holds the account added after the backup
    safety = next((cli_db.parent / "backups").glob("crm-*-pre-restore.db"))
    assert any(row[1] == "xiaoli" for row in _dump(safety, key)["staff"])


def test_restore_refused_on_a_bad_file_changes_nothing(cli_db, cli_env, run_cli, tmp_path):
    path = _backup(run_cli)
    data = bytearray(path.read_bytes())
    data[30_000] ^= 0x01
    path.write_bytes(bytes(data))
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 1000)
    before = cli.snapshot(cli_db.parent, cli.keyring_file(cli_env))
    for bad, words in ((path, "failed verification"), (junk, "failed verification"),
                       (tmp_path / "missing.db", "No backup file")):
        r = _admin(run_cli, "restore", str(bad), "--yes")
        cli.assert_clean_failure(r)
        assert words in r.stderr, r.stderr
        assert "nothing was changed" in r.stderr
    after = cli.snapshot(cli_db.parent, cli.keyring_file(cli_env))
    # sign-ins add audit rows to crm.db; no file appears or disappears and backups stay as they were
    assert set(after) == set(before)
    assert {k: v for k, v in after.items() if "/backups/" in k} == {k: v for k, v in before.items() if "/backups/" in k}


def test_restore_and_rotate_refused_while_another_process_has_the_database_open(cli_db, cli_env, run_cli):
    path = _backup(run_cli)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from crm_tui.services import system;"
         " svc = system.open_services(system.resolve(None)); print('ready', flush=True); sys.stdin.read();"
         " svc.close()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env,
        cwd=cli.REPO_ROOT)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "ready\n"
        before = cli.sha256(cli_db)
        r = _admin(run_cli, "restore", str(path), "--yes")
        cli.assert_clean_failure(r)
        assert r.returncode == 17
        assert "Another crm-tui process has" in r.stderr and "nothing was changed" in r.stderr
        k = run_cli("--user", "admin", "--password-stdin", "key", "rotate", input=f"{P}\n{P}\n")
        assert k.returncode == 17, k.stderr
        assert cli.get_key_hex(cli_env, cli_db) == _key(cli_env, cli_db).hex()
        assert cli.sha256(cli_db) != "" and before
    finally:
        holder.communicate(input="", timeout=60)
    assert holder.returncode == 0
    r = _admin(run_cli, "restore", str(path), "--yes")
    assert r.returncode == 0, r.stderr


def test_restore_on_a_new_machine_with_the_recovery_code_R_SEC_5(cli_db, cli_env, run_cli, tmp_path):
    r = _admin(run_cli, "user", "add", "jingli", "--role", "customer_manager", "--approval", "王科长")
    assert r.returncode == 0
    path = _backup(run_cli, "--to", str(tmp_path / "usb"))
    e = run_cli("--user", "admin", "--password-stdin", "key", "export", input=f"{P}\n{P}\n")
    assert e.returncode == 0, e.stderr
    code = "\n".join(e.stdout.strip().splitlines()[-5:])
    # a new machine: empty keyring, empty data folder
    new_root = tmp_path / "new-machine"
    new_data = new_root / "data"
    env = cli.make_env(new_root, new_data)
    nope = run_cli("restore", str(path), "--yes", env=env)
    cli.assert_clean_failure(nope)
    assert "recovery code" in nope.stderr and not (new_data / "crm.db").exists()
    r = run_cli("restore", str(path), "--yes", "--recovery-code", input=code + "\n", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "this folder had no database" in r.stdout
    assert run_cli("doctor", env=env).returncode == 0
    users = run_cli("--user", "admin", "--password-stdin", "user", "list", input=f"{P}\n", env=env)
    assert users.returncode == 0 and "jingli" in users.stdout
    key = bytes.fromhex(cli.get_key_hex(env, new_data / "crm.db") or "")
    restored, saved = _dump(new_data / "crm.db", key), _dump(path, key)
    assert [r[:4] for r in restored["staff"]] == [r[:4] for r in saved["staff"]]  # sign-in updates last login
    assert restored["staff_role"] == saved["staff_role"]


def test_restore_needs_yes_and_permission(cli_db, run_cli):
    path = _backup(run_cli)
    r = _admin(run_cli, "restore", str(path))
    cli.assert_clean_failure(r)
    assert "Add --yes" in r.stderr
    r = run_cli("restore", str(path), "--yes")
    cli.assert_clean_failure(r)
    assert "--user NAME" in r.stderr


def test_key_rotate_changes_key_old_backups_still_verify_R_SEC_4(cli_db, cli_env, run_cli):
    old_hex = cli.get_key_hex(cli_env, cli_db)
    before = _backup(run_cli)
    r = run_cli("--user", "admin", "--password-stdin", "key", "rotate", input=f"{P}\n{P}\n")
    assert r.returncode == 0, r.stdout + r.stderr
    cli.assert_no_noise(r)
    new_hex = cli.get_key_hex(cli_env, cli_db)
    assert new_hex and new_hex != old_hex
    for out in (r.stdout, r.stderr):
        assert old_hex not in out and new_hex not in out  # type: ignore[operator]
    assert "key export" in r.stdout
    assert run_cli("doctor").returncode == 0
    assert run_cli("backup", "verify", str(before)).returncode == 0  # found by key id among retired keys
    wrong = run_cli("--user", "admin", "--password-stdin", "key", "rotate", input=f"{P}\nwrong-password\n")
    cli.assert_clean_failure(wrong)
    assert cli.get_key_hex(cli_env, cli_db) == new_hex


@pytest.mark.parametrize("step", STEPS)
def test_key_rotate_killed_at_each_step_still_opens_R_SEC_4(step, cli_db, cli_env, run_cli):
    """Killed (SIGKILL) right after each step: the database opens with what the keyring holds, or
    doctor names the one command that finishes, and after it everything is as after a rotation."""
    key_before = _key(cli_env, cli_db)
    users_before = [r[:4] for r in _dump(cli_db, key_before)["staff"]]
    env = {**cli_env, "CRM_TUI_TEST_KILL_AT": step}
    r = run_cli("--user", "admin", "--password-stdin", "key", "rotate", input=f"{P}\n{P}\n", env=env)
    assert r.returncode == -9, r.stdout + r.stderr
    d = run_cli("doctor")
    if d.returncode != 0:
        assert step == "rekeyed", d.stdout
        assert "crm-tui key rotate --finish" in d.stdout
        f = run_cli("key", "rotate", "--finish")
        assert f.returncode == 0 and "finished" in f.stdout, f.stdout + f.stderr
        d = run_cli("doctor")
    assert d.returncode == 0, d.stdout
    key_after = _key(cli_env, cli_db)
    assert [r[:4] for r in _dump(cli_db, key_after)["staff"]] == users_before
    assert (key_after != key_before) == (STEPS.index(step) >= STEPS.index("rekeyed"))
    v = _admin(run_cli, "audit", "verify")
    assert v.returncode == 0, v.stdout + v.stderr
    # a later rotation works from any of these states
    again = run_cli("--user", "admin", "--password-stdin", "key", "rotate", input=f"{P}\n{P}\n")
    assert again.returncode == 0, again.stdout + again.stderr
    assert run_cli("doctor").returncode == 0


def test_app_start_finishes_an_interrupted_rotation(cli_db, cli_env, run_cli):
    env = {**cli_env, "CRM_TUI_TEST_KILL_AT": "rekeyed"}
    r = run_cli("--user", "admin", "--password-stdin", "key", "rotate", input=f"{P}\n{P}\n", env=env)
    assert r.returncode == -9
    # any command that opens the database uses the pending key and promotes it
    v = _admin(run_cli, "audit", "verify")
    assert v.returncode == 0, v.stdout + v.stderr
    assert run_cli("doctor").returncode == 0
    keyring_text = cli.keyring_file(cli_env).read_text()
    assert "pending" not in keyring_text


def test_import_cli_gbk_dry_run_then_import_and_fill(cli_db, run_cli, tmp_path):
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf).writerows([["客户名称", "手机", "备注"], ["张伟", "13812345678", ""], ["李娜", "1391111222", ""]])
    path = tmp_path / "客户.csv"
    path.write_bytes(buf.getvalue().encode("gbk"))
    dry = _admin(run_cli, "import", "customers", str(path), "--dry-run", "--errors-to", str(tmp_path / "err.csv"))
    cli.assert_clean_failure(dry)
    assert "GBK/GB18030" in dry.stdout and "row 3, column 手机: Mobile numbers have 11 digits" in dry.stdout
    assert "手机" in (tmp_path / "err.csv").read_text(encoding="utf-8-sig")
    refused = _admin(run_cli, "import", "customers", str(path))
    assert refused.returncode == 23 and "nothing was imported" in refused.stderr
    ok = _admin(run_cli, "import", "customers", str(path), "--valid-only", "--save-mapping", "老表")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Imported 1 customers" in ok.stdout and "pre-import" in ok.stdout
    buf = io.StringIO()
    csv.writer(buf).writerows([["客户名称", "手机", "备注"], ["张伟", "13812345678", "补充备注"]])
    path.write_bytes(buf.getvalue().encode("gbk"))
    fill = _admin(run_cli, "import", "customers", str(path), "--mapping", "老表", "--duplicates", "fill")
    assert fill.returncode == 0, fill.stdout + fill.stderr
    assert "already customer" in fill.stdout and "Blank fields of 1 existing customers" in fill.stdout
    exp = _admin(run_cli, "export", "customers", "--to", str(tmp_path / "out.xlsx"))
    cli.assert_clean_failure(exp)
    assert "export the customer list" in exp.stderr  # administrators import; exporting is for chiefs

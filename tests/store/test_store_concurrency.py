"""Two processes writing to the same file at once: one waits, neither corrupts nor loses a write.

Both writers open the database, report ready, and start on the same signal (a go file), so their
write transactions contend for the lock; how they interleave is up to SQLite's busy handler.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from crm_tui.services import system
from crm_tui.store import audit as audit_store
from crm_tui.store import db
from crm_tui.store.keys import MemoryKeyStore
from tests.helpers import cli

N = 150


def test_two_processes_write_at_once(tmp_data_dir, tmp_path):
    place = system.Place(tmp_data_dir, MemoryKeyStore())
    db_file = system.create_empty(place)
    db.open_store(tmp_data_dir, place.key_store).close()  # schema
    key = place.key_store.get(db_file)
    assert key is not None
    go = tmp_path / "go"
    env = cli.make_env(tmp_path, tmp_data_dir)

    writers = [
        subprocess.Popen([sys.executable, "-m", "tests.helpers.writer", str(db_file), tag, str(N), str(go)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env, cwd=cli.REPO_ROOT)
        for tag in ("writer-a", "writer-b")
    ]
    try:
        for w in writers:
            assert w.stdin is not None and w.stdout is not None
            w.stdin.write(key.hex() + "\n")
            w.stdin.close()
            w.stdin = None  # so communicate() below does not touch it
        for w in writers:
            assert w.stdout.readline() == "ready\n", w.stderr.read()  # type: ignore[union-attr]
        go.touch()  # both are open: start together
        results = [w.communicate(timeout=120) for w in writers]
    finally:
        for w in writers:
            if w.poll() is None:
                w.kill()
    for w, (out, err) in zip(writers, results):
        assert w.returncode == 0, err
        assert out == "done\n" and err == ""

    store = db.open_with_key(db_file, key, migrate=False)
    try:
        with store.read() as s:
            for tag in ("writer-a", "writer-b"):
                rows = s.execute(text("SELECT details FROM audit_log WHERE actor_name = :t ORDER BY id"),
                                 {"t": tag}).scalars().all()
                assert sorted(json.loads(d)["i"] for d in rows) == list(range(N))
            report = audit_store.verify(s)
        assert report.rows == 2 * N and report.first_broken is None
    finally:
        store.close()
    conn = db.raw_connect(Path(db_file), key)
    try:
        assert db.integrity_checks(conn) == ([], [])
    finally:
        conn.close()

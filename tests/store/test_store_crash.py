"""Crash safety: kill -9 a process in the middle of a stream of committed writes, many times.

After every kill the database opens through the product's code, passes cipher_integrity_check and
integrity_check, keeps an intact audit chain, and holds every write acknowledged before the kill
(an acknowledgement is printed only after the commit returned).
"""

from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import text

from crm_tui.services import system
from crm_tui.store import audit as audit_store
from crm_tui.store import db
from crm_tui.store.keys import MemoryKeyStore
from tests.helpers import cli


def _crash_rounds(tmp_data_dir, tmp_path, rounds: int, seed: int, chain_every: int = 1) -> None:  # type: ignore[no-untyped-def]
    place = system.Place(tmp_data_dir, MemoryKeyStore())
    db_file = system.create_empty(place)
    db.open_store(tmp_data_dir, place.key_store).close()
    key = place.key_store.get(db_file)
    assert key is not None
    rng = random.Random(seed)

    server = subprocess.Popen([sys.executable, "-m", "tests.helpers.crash_writer", str(db_file)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              bufsize=1, env=cli.make_env(tmp_path, tmp_data_dir), cwd=cli.REPO_ROOT)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert server.stdout is not None
        for line in server.stdout:
            lines.put(line.rstrip("\n"))
        lines.put("<eof>")

    threading.Thread(target=pump, daemon=True).start()

    def next_line(timeout: float = 60) -> str:
        line = lines.get(timeout=timeout)
        assert line != "<eof>", server.stderr.read() if server.stderr else ""
        return line

    acked: set[int] = set()
    # One idle connection held open all along: closing the checking connection then does not
    # checkpoint, so the WAL grows across rounds and children also get killed around checkpoints.
    holder = db.raw_connect(db_file, key)
    try:
        assert server.stdin is not None
        server.stdin.write(key.hex() + "\n")
        for round_no in range(rounds):
            server.stdin.write("fork\n")
            server.stdin.flush()
            tag, pid_text = next_line().split()
            assert tag == "pid"
            pid = int(pid_text)
            # Kill after a random number of acknowledged commits plus a random sub-commit delay, so
            # the kill lands at a random point of a later transaction whatever the machine's speed.
            target, delay = rng.randint(1, 60), rng.uniform(0.0, 0.005)
            round_acks: list[int] = []
            while len(round_acks) < target:
                line = next_line()
                assert line.startswith("ack "), line
                round_acks.append(int(line.split()[1]))
            time.sleep(delay)
            os.kill(pid, signal.SIGKILL)
            while not (line := next_line()).startswith("reaped "):
                assert line.startswith("ack "), line
                round_acks.append(int(line.split()[1]))
            status = int(line.split()[2])
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (
                f"seed {seed} round {round_no}: the writer ended by itself ({status}): "
                + (server.stderr.read() if server.stderr else ""))
            acked.update(round_acks)

            store = db.open_with_key(db_file, key, pool="null")  # the product's open path, migration check
            try:
                with store.read() as s:
                    present = set(s.execute(text("SELECT id FROM audit_log")).scalars())
                    # The whole chain is re-hashed: every round in the default run, every few in the long one.
                    report = audit_store.verify(s) if (round_no + 1) % chain_every == 0 or round_no == rounds - 1 else None
            finally:
                store.engine.dispose()
            missing = acked - present
            assert not missing, f"seed {seed} round {round_no}: acknowledged writes lost: {sorted(missing)[:10]}"
            assert report is None or report.first_broken is None, report
            conn = db.raw_connect(db_file, key)
            try:
                assert db.integrity_checks(conn) == ([], []), f"seed {seed} round {round_no}"
            finally:
                conn.close()
    finally:
        holder.close()
        if server.stdin:
            server.stdin.close()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    assert len(acked) >= rounds


def test_kill_9_during_committed_writes(tmp_data_dir, tmp_path):
    _crash_rounds(tmp_data_dir, tmp_path, rounds=25, seed=20261123)


@pytest.mark.slow
def test_kill_9_during_committed_writes_many_times(tmp_data_dir, tmp_path):
    _crash_rounds(tmp_data_dir, tmp_path, rounds=250, seed=int(time.time()), chain_every=10)

"""Fork server for the crash-safety test (tests/store/test_store_crash.py).

Usage: python -m tests.helpers.crash_writer DB_FILE, with the key's 64 hex digits on the first stdin line.
It imports the store once, then for every "fork" line on stdin forks a child that opens the
database through the product's own code and streams committed writes: each one an audit entry in
its own ``Store.write()`` transaction, acknowledged as "ack <id>" on stdout only after the commit
returned. The test SIGKILLs the child whenever it likes; the server reports "pid <pid>" when a
child starts and "reaped <pid> <status>" when it is gone. Forking from an already-imported
process keeps a round at milliseconds instead of a second of imports.
"""

from __future__ import annotations

import os
import random
import sys
import traceback
from datetime import datetime
from pathlib import Path

from crm_tui.store import audit as audit_store
from crm_tui.store import db


def _say(line: str) -> None:
    os.write(1, (line + "\n").encode())  # one write(2) below PIPE_BUF: atomic, unbuffered


def child(db_file: Path, key: bytes, round_no: int) -> None:
    rng = random.Random(os.getpid())
    store = db.open_with_key(db_file, key, migrate=False)
    while True:
        with store.write() as s:
            audit_id = audit_store.append(
                s, at=datetime.now(), actor_id=None, actor_name="crash", action="test.crash",
                details={"round": round_no, "pad": "x" * rng.randint(0, 3000)},
            )
        _say(f"ack {audit_id}")


def main() -> None:
    db_file = Path(sys.argv[1])
    key = bytes.fromhex(sys.stdin.readline().strip())
    db.silence_sqlcipher_log()
    round_no = 0
    for line in sys.stdin:
        if line.strip() != "fork":
            break
        round_no += 1
        pid = os.fork()
        if pid == 0:
            try:
                child(db_file, key, round_no)
            except BaseException:  # noqa: BLE001 - report, never fall back into the server loop
                traceback.print_exc()
            finally:
                os._exit(1)
        _say(f"pid {pid}")
        _, status = os.waitpid(pid, 0)
        _say(f"reaped {pid} {status}")


if __name__ == "__main__":
    main()

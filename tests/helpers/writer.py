"""One of two processes writing to the same database at once (tests/store/test_store_concurrency.py).

Usage: python -m tests.helpers.writer DB_FILE TAG N GO_FILE, with the key's 64 hex digits on stdin (never
in argv). Prints "ready" once the store is open, waits for GO_FILE so both writers start together,
then commits N audit entries, one write transaction each, through ``Store.write()``.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path

from crm_tui.store import audit as audit_store
from crm_tui.store import db


def main() -> None:
    db_file, tag, n, go = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    key = bytes.fromhex(sys.stdin.readline().strip())
    store = db.open_with_key(db_file, key, migrate=False)
    print("ready", flush=True)
    deadline = time.monotonic() + 60
    while not go.exists():
        if time.monotonic() > deadline:
            raise SystemExit("the go file never appeared")
        time.sleep(0.002)
    for i in range(n):
        with store.write() as s:
            audit_store.append(s, at=datetime.now(), actor_id=None, actor_name=tag, action="test.write",
                               details={"i": i})
    store.close()
    print("done", flush=True)


if __name__ == "__main__":
    main()

"""Another process holding the write lock (busy tests). Usage: python -m tests.helpers.lock_holder
DB_FILE [import], key hex on stdin. With ``import`` it first commits a running import batch, as a
running import does. Prints "locked" while it holds BEGIN IMMEDIATE; releases when stdin closes."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from crm_tui.store import db


def main() -> None:
    db_file = Path(sys.argv[1])
    key = bytes.fromhex(sys.stdin.readline().strip())
    conn = db.raw_connect(db_file, key)
    if len(sys.argv) > 2 and sys.argv[2] == "import":
        conn.execute("INSERT INTO import_batch (token, state, file, first_id, last_id, rows, started_by, started_at)"
                     " VALUES ('holder', 'running', 'big.csv', 1000000, 1000001, 0, 'admin', ?)",
                     (datetime(2026, 3, 2, 9, 41).isoformat(sep=" "),))
    conn.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    sys.stdin.read()
    conn.execute("ROLLBACK")
    conn.close()


if __name__ == "__main__":
    main()

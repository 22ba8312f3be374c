"""An import killed between batches (tests/services/test_import_concurrency.py).

Usage: python -m tests.helpers.import_killer DATA_DIR CSV STAFF_ID, key hex on stdin. Runs the
import as an administrator with CHUNK rows a transaction; after the first batch is committed it
prints "batch" and waits (for the kill -9 that the test sends).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from crm_tui.services import importing, system
from crm_tui.services.context import Actor
from crm_tui.store.keys import MemoryKeyStore


def main() -> None:
    data, csv_file, staff_id = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    keys = MemoryKeyStore()
    place = system.Place(data, keys)
    keys.put(place.db_file, bytes.fromhex(sys.stdin.readline().strip()))
    svc = system.open_services(place)
    actor = Actor(staff_id, "admin", "管理员", frozenset({"admin"}))
    importing.batch.CHUNK = 2

    def hold(done: int, total: int) -> None:
        print("batch", flush=True)
        time.sleep(120)

    importing.batch._after_chunk = hold
    p = importing.plan(svc, actor, importing.read_file(csv_file))
    importing.run(svc, actor, p, backup=False)


if __name__ == "__main__":
    main()

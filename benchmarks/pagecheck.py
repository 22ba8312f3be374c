"""Start-up cost of the check of every page (issue 17, crm_tui/store/pagecheck.py).

Makes a database the normal way (system.create_empty, migrations) and fills it to --mib MiB with
a table of random blobs (the HMAC check costs the same per page whatever the page holds), then
times ``db.open_store`` + close, the way every start of the app and of a command opens it:

- unchanged: the file as the last closing process stamped it (the usual start): a stat, no page read;
- changed: the file touched from outside (or left by a killed process): every page's HMAC checked;
- baseline: a bare keyed connection and a read of sqlite_master (what an open costs without it).

    nice -n 10 .venv/bin/python benchmarks/pagecheck.py --mib 580 --dir /tmp/crmbench/pagecheck

Writes nothing but the database in --dir; prints the table recorded in results/pagecheck.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path


def main() -> None:
    from crm_tui.services import system
    from crm_tui.store import db
    from crm_tui.store.keys import MemoryKeyStore

    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=580)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/crmbench/pagecheck"))
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    ks = MemoryKeyStore()
    place = system.Place(a.dir, ks)
    db_file = place.db_file
    if db_file.exists():
        raise SystemExit(f"{db_file} exists: give an empty --dir")
    system.create_empty(place)
    db.open_store(a.dir, ks).close()  # migrations
    key = ks.get(db_file)
    assert key is not None
    conn = db.raw_connect(db_file, key)
    db._configure(conn)
    conn.execute("CREATE TABLE bench_filler (x BLOB)")
    conn.execute("BEGIN")
    while db_file.stat().st_size + (Path(str(db_file) + "-wal").stat().st_size
                                    if Path(str(db_file) + "-wal").exists() else 0) < a.mib * 2**20:
        conn.executemany("INSERT INTO bench_filler VALUES (randomblob(3000))", [()] * 5000)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    size = db_file.stat().st_size / 2**20

    def timed(fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
        walls, cpus = [], []
        for _ in range(a.reps):
            w, c = time.perf_counter(), time.process_time()
            fn()
            walls.append(time.perf_counter() - w)
            cpus.append(time.process_time() - c)
        return statistics.median(walls), statistics.median(cpus)

    db.open_store(a.dir, ks).close()  # stamped

    def unchanged() -> None:
        db.open_store(a.dir, ks).close()

    def changed() -> None:
        os.utime(db_file)
        db.open_store(a.dir, ks).close()

    def baseline() -> None:
        c = db.raw_connect(db_file, key)
        c.close()

    rows = [("open + close, file unchanged since the last close (stamp)", *timed(unchanged)),
            ("open + close, file changed outside: every page's HMAC checked", *timed(changed)),
            ("baseline: keyed connection + sqlite_master read", *timed(baseline))]
    print(f"file: {size:,.0f} MiB ({db.page_count(db_file):,} pages); median of {a.reps}; "
          f"load at start {os.getloadavg()[0]:.1f}")
    print("| Open | Wall | CPU |\n|---|---:|---:|")
    for name, wall, cpu in rows:
        print(f"| {name} | {wall * 1000:,.1f} ms | {cpu * 1000:,.1f} ms |")


if __name__ == "__main__":
    main()

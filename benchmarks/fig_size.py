"""Size figures: where the file's bytes go, per table and per index (issue 22, item 4).

sqlcipher3's SQLite is built without the ``dbstat`` virtual table; Python's own ``sqlite3`` has
it. So the breakdown is read from the plain (unencrypted) copy that run.py already makes for the
encryption-cost figure (``sqlcipher_export``, i.e. a freshly packed file: the encrypted file is
larger by its 80 reserved bytes a page and by whatever its pages are emptier than a packed copy's;
both show in the figures' notes).

    python benchmarks/fig_size.py /tmp/crmbench/c100000/plain.db     # print the table
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

#: Objects below this share of the file are summed into one "other" figure.
MIN_SHARE = 0.005


def breakdown(plain_file: Path) -> list[dict[str, Any]]:
    """Per table and index of a plain SQLite file: pages, bytes, payload, unused bytes (``dbstat``)."""
    c = sqlite3.connect(f"file:{plain_file}?mode=ro", uri=True)
    try:
        rows = c.execute(
            "SELECT d.name, coalesce(m.type, 'table'), coalesce(m.tbl_name, d.name), count(*), sum(d.pgsize),"
            " sum(d.payload), sum(d.unused) FROM dbstat d LEFT JOIN sqlite_master m ON m.name = d.name"
            " GROUP BY d.name ORDER BY sum(d.pgsize) DESC").fetchall()
        wr = {n for (n, s) in c.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
              if s and "WITHOUT ROWID" in s.upper()}
    finally:
        c.close()
    return [{"name": n, "type": "table (without rowid)" if n in wr else t, "table": tb, "pages": p, "bytes": b,
             "payload": pl, "unused": u} for n, t, tb, p, b, pl, u in rows]


def size_figs(plain_file: Path, enc_file: Path, n: int) -> list[dict[str, Any]]:
    """``size: <object>`` figures in KiB a customer, largest first, with the share of the file."""
    from run import fig

    objs = breakdown(plain_file)
    total = sum(o["bytes"] for o in objs) or 1
    enc = enc_file.stat().st_size
    out = [fig("size: plain packed copy per customer (sum of the objects below)", total / n / 1024, "KiB", None,
               None, None, note=f"the encrypted file is {enc / n / 1024:.3f} KiB a customer ({enc / total:.2f}x): "
                                "80 reserved bytes a page, and pages filled less than a packed copy's")]
    other = 0
    for o in objs:
        if o["bytes"] / total < MIN_SHARE:
            other += o["bytes"]
            continue
        kind = "index" if o["type"] == "index" else o["type"]
        of = f" on {o['table']}" if kind == "index" else ""
        out.append(fig(f"size: {o['name']}", o["bytes"] / n / 1024, "KiB", None, None, None,
                       note=f"{kind}{of}; {100 * o['bytes'] / total:.1f} % of the file; {o['pages']:,} pages,"
                            f" {100 * o['payload'] / o['bytes']:.0f} % payload"))
    out.append(fig("size: other tables and indexes", other / n / 1024, "KiB", None, None, None,
                   note=f"{100 * other / total:.1f} % of the file; each under {100 * MIN_SHARE:.1f} %"))
    return out


def main() -> None:
    plain = Path(sys.argv[1])
    c = sqlite3.connect(f"file:{plain}?mode=ro", uri=True)
    n = c.execute("SELECT count(*) FROM customer").fetchone()[0] or 1
    c.close()
    objs = breakdown(plain)
    total = sum(o["bytes"] for o in objs)
    print(f"{n:,} customers, {total / 2**20:.1f} MiB packed, {total / n / 1024:.3f} KiB a customer")
    for o in objs:
        print(f"{o['name']:42s} {o['type']:21s} {o['bytes'] / n / 1024:8.3f} KiB {100 * o['bytes'] / total:5.1f} %"
              f"  payload {100 * o['payload'] / max(1, o['bytes']):3.0f} %")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()

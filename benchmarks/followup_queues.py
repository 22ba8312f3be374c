"""Follow-up queues at size: N cards (default 50,000) over the demo's consultants, then the time of
the first and a deep keyset page of each queue, the home counts and the weekly review.

    .venv/bin/python benchmarks/followup_queues.py [N]

Cards are written in bulk with plain SQL (not through the services: the point is reading speed).
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from crm_tui import demo
from crm_tui.services import followups as fu, home, system
from crm_tui.demo.followups import _actor


def main(n: int) -> None:
    folder = Path(tempfile.mkdtemp())
    place = system.Place(folder, system.memory_key_store())
    system.create_empty(place)
    now = datetime(2026, 11, 23, 10, 30)
    svc = system.open_services(place, clock=lambda: now, demo=True)
    demo.seed(svc)
    jingli = _actor(svc, "jingli")
    chief = _actor(svc, "kezhang")
    rnd = random.Random(1)
    with svc.store.read() as s:
        customers = [r[0] for r in s.execute(text("SELECT id FROM customer"))]
        owners = [r[0] for r in s.execute(text("SELECT id FROM staff WHERE username IN ('jingli','jingli2','kezhang')"))]
    t0 = time.perf_counter()
    rows = []
    for i in range(n):
        d = date(2026, 11, 23) + timedelta(days=rnd.randint(-40, 30))
        status = rnd.choice(("open",) * 8 + ("won", "lost"))
        rows.append({"number": f"B2026-{i:06d}", "c": rnd.choice(customers), "o": rnd.choice(owners),
                     "d": "2026-10-01", "lvl": rnd.choice("HABCN"), "src": "walk_in",
                     "due": d.isoformat() if status == "open" else None, "st": status, "rd": "2026-10-05",
                     "now": now})
    with svc.store.write() as s:
        s.execute(text("INSERT INTO followup_card (number, customer_id, owner_id, card_date, first_reception_date,"
                       " intent_level, source, next_visit_due, status, review_due, visits, version, created_at,"
                       " updated_at) VALUES (:number, :c, :o, :d, :d, :lvl, :src, :due, :st, :rd, 0, 1, :now, :now)"),
                  rows)
    print(f"inserted {n} cards in {time.perf_counter() - t0:.1f} s")

    def timed(label: str, fn, repeat: int = 5) -> None:  # type: ignore[no-untyped-def]
        best = min(_t(fn) for _i in range(repeat))
        print(f"{label:<48} {best * 1000:8.1f} ms")

    def _t(fn) -> float:  # type: ignore[no-untyped-def]
        t = time.perf_counter()
        fn()
        return time.perf_counter() - t

    for which in ("today", "overdue", "week", "open"):
        timed(f"queue {which} (own, first page of 100)", lambda w=which: fu.queue(svc, jingli, w))
        timed(f"queue {which} (everyone, first page of 100)", lambda w=which: fu.queue(svc, chief, w))
    page = fu.queue(svc, chief, "open")
    cursor = page.next_cursor
    for _i in range(50):
        cursor = fu.queue(svc, chief, "open", cursor=cursor).next_cursor
    timed("queue open (everyone), page 52 by key", lambda: fu.queue(svc, chief, "open", cursor=cursor))
    timed("queue review (supervisor)", lambda: fu.queue(svc, chief, "review"))
    timed("home counts (consultant)", lambda: home.today(svc, jingli))
    timed("home counts (section chief)", lambda: home.today(svc, chief))
    timed("weekly review", lambda: fu.weekly_review(svc, chief), repeat=3)
    svc.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)

"""Benchmarks: every figure beside its raw baseline, measured in the same run.

    python benchmarks/run.py --customers 100000 --json benchmarks/results/100k.json

Uses (or first generates, with benchmarks/gen.py) the database in ``--dir`` (default
``/tmp/crmbench/c<N>``), writes the JSON list of ``{"name", "value", "unit", "baseline", "ratio",
"target", "met"}`` and rewrites ``benchmarks/RESULTS.md`` from every JSON file in
``benchmarks/results/``. See benchmarks/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import fig_backup  # noqa: E402
import gen  # noqa: E402
import fig_size  # noqa: E402

ROWS_SQL = (
    "SELECT c.id, c.number, c.name, c.kind, c.category, c.grade, s.display_name, c.important, c.owner_id,"
    " c.erased_at, (SELECT ph.national FROM customer_phone ph WHERE ph.customer_id = c.id"
    " ORDER BY ph.is_primary DESC, ph.id LIMIT 1),"
    " (SELECT group_concat(tg.tag, char(31)) FROM customer_tag tg WHERE tg.customer_id = c.id)"
    " FROM customer c LEFT JOIN staff s ON s.id = c.owner_id WHERE c.id IN ({ids})")
PAGE = 100  # the list screen's page
CAP = 1001
QUERY_TYPES = ("1-char Chinese", "2-char Chinese", "3+-char Chinese", "pinyin initials", "full pinyin",
               "4-digit phone suffix", "customer number")


def p95(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]


def fig(name: str, value: float | None, unit: str, baseline: float | None = None, target: str | None = None,
        met: bool | None = None, note: str | None = None) -> dict[str, Any]:
    ratio = round(value / baseline, 3) if value is not None and baseline else None
    out = {"name": name, "value": None if value is None else round(value, 4), "unit": unit,
           "baseline": None if baseline is None else round(baseline, 4), "ratio": ratio, "target": target,
           "met": met}
    if note:
        out["note"] = note
    return out


# ------------------------------------------------------------------------------------------------
# Queries drawn from the data
# ------------------------------------------------------------------------------------------------


def pick_queries(conn: Any, n_per_type: int, seed: int = 5) -> dict[str, list[str]]:
    from crm_tui.domain import search_terms

    rnd = random.Random(seed)
    max_id = conn.execute("SELECT max(id) FROM customer").fetchone()[0]
    people: list[tuple[str, str, str]] = []
    while len(people) < n_per_type * 3:
        cid = rnd.randrange(1, max_id + 1)
        r = conn.execute("SELECT c.name, c.number, (SELECT national FROM customer_phone WHERE customer_id = c.id"
                         " ORDER BY id LIMIT 1) FROM customer c WHERE c.id = ? AND c.kind = 'person'", (cid,)).fetchone()
        if r:
            people.append(r)
    q: dict[str, list[str]] = {t: [] for t in QUERY_TYPES}
    for name, number, phone in people:
        forms = search_terms.pinyin_forms(name)
        syl = len(name) if len(forms) >= 2 * len(name) else 1
        q["1-char Chinese"].append(name[rnd.randrange(len(name))])
        q["2-char Chinese"].append(name[:2])
        if len(name) >= 3:
            q["3+-char Chinese"].append(name)
        q["pinyin initials"].append(forms[syl] if syl < len(forms) else forms[-1])
        q["full pinyin"].append(forms[0])
        q["4-digit phone suffix"].append(phone[-4:])
        q["customer number"].append(number)
    return {t: v[:n_per_type] for t, v in q.items()}


# ------------------------------------------------------------------------------------------------
# Raw baseline: a bare sqlcipher3 cursor running the best SQL for the same page
# ------------------------------------------------------------------------------------------------


def raw_search(conn: Any, query: str) -> list[tuple]:
    """What the list needs for one query (a page of 100 display rows and the capped count), with
    the best hand-written SQL and no layers. Handles the single-token queries of the suite."""
    from crm_tui.domain.search_terms import parse_query, upper_bound

    t = parse_query(query).tokens[0]
    term = t.term
    if t.prefix:
        hi = upper_bound(term)
        ids: list[int] = []
        seen: set[int] = set()
        for (cid,) in conn.execute("SELECT customer_id FROM search_term WHERE term >= ? AND term < ?"
                                   " ORDER BY term, customer_id LIMIT ?", (term, hi, PAGE * 2 + 8)):
            if cid not in seen:
                seen.add(cid)
                ids.append(cid)
                if len(ids) == PAGE:
                    break
        conn.execute("SELECT count(*) FROM (SELECT DISTINCT customer_id FROM search_term WHERE term >= ?"
                     " AND term < ? LIMIT ?)", (term, hi, CAP)).fetchone()
    else:
        if t.verify:  # long name / long pinyin / 5+ phone digits: confirm on the row
            raise ValueError("raw_search covers the suite's single-token, unverified queries")
        ids = [r[0] for r in conn.execute("SELECT customer_id FROM search_term WHERE term = ?"
                                          " ORDER BY customer_id LIMIT ?", (term, PAGE))]
        conn.execute("SELECT count(*) FROM (SELECT 1 FROM search_term WHERE term = ? LIMIT ?)",
                     (term, CAP)).fetchone()
    if not ids:
        return []
    return conn.execute(ROWS_SQL.format(ids=",".join(map(str, ids)))).fetchall()


#: Latencies are CPU time of the measuring thread (user + system, time.thread_time), not wall
#: time: the 2 cores are shared with other jobs, and time spent waiting for a core is noise, not
#: work. Wall-clock figures are kept in the notes and the .meta.json.
CPU = True


def timed(fn: Callable[[], Any]) -> float:
    return timed2(fn)[1 if CPU else 0]


def timed2(fn: Callable[[], Any]) -> tuple[float, float]:
    """(wall ms, thread CPU ms) of one call."""
    c0 = time.thread_time_ns()
    t0 = time.perf_counter_ns()
    fn()
    return (time.perf_counter_ns() - t0) / 1e6, (time.thread_time_ns() - c0) / 1e6


def search_suite(svc: Any, actor: Any, raw: Any, queries: dict[str, list[str]], reps: int, n: int,
                 plain: Any | None, passes: int = 3) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from crm_tui.services import customers as cs

    out = []
    enc_total = plain_total = 0.0
    detail: dict[str, Any] = {}
    for qt in QUERY_TYPES:
        qs = queries[qt]
        for q in qs:  # warm both paths the same way
            cs.search(svc, actor, q, limit=PAGE)
            raw_search(raw, q)
            if plain is not None:
                raw_search(plain, q)
        # ``passes`` passes; each figure is taken from the pass with the lowest p95 (for the service
        # and the raw baseline alike): a burst of another job's work lands in one pass, not in all.
        best: tuple[float, ...] | None = None
        for _pass in range(passes):
            svc_ms, raw_ms, plain_ms, svc_wall = [], [], [], []
            for _r in range(reps):
                for q in qs:
                    w, c = timed2(lambda: cs.search(svc, actor, q, limit=PAGE))
                    svc_ms.append(c if CPU else w)
                    svc_wall.append(w)
                    raw_ms.append(timed(lambda: raw_search(raw, q)))
                    if plain is not None:
                        plain_ms.append(timed(lambda: raw_search(plain, q)))
            cand = (p95(svc_ms), statistics.median(svc_ms), p95(raw_ms), statistics.median(raw_ms), p95(svc_wall))
            best = cand if best is None or cand[0] < best[0] else best
            rbest = min(rbest, cand[2]) if _pass else cand[2]
            enc_total += sum(raw_ms) / passes
            plain_total += sum(plain_ms) / passes
        assert best is not None
        p, med, _rp, rmed, wall_p = best
        rp = rbest
        limit = max(2 * rp, rp + 0.5)
        ok = p <= limit and (n < 1_000_000 or p < 5.0)
        tgt = "p95 <= max(2x raw p95, raw p95 + 0.5 ms)" + (" and < 5 ms" if n >= 1_000_000 else "")
        out.append(fig(f"search {qt}: median", med, "ms", rmed, None, None))
        out.append(fig(f"search {qt}: p95", p, "ms", rp, tgt, ok,
                       note=f"e.g. {qs[0]!r}; {len(svc_ms)} samples x {passes} passes; wall p95 {wall_p:.2f} ms"))
        detail[qt] = {"queries": qs[:3], "svc_ms": [round(x, 3) for x in sorted(svc_ms)[::max(1, len(svc_ms) // 20)]]}
        if plain is not None:
            detail[qt]["plain_median"] = statistics.median(plain_ms)
    if plain is not None:
        out.append(fig("encryption cost: raw query suite, SQLCipher vs plain SQLite (total)", enc_total, "ms",
                       plain_total, "within 1.2x", enc_total <= 1.2 * plain_total,
                       note="same data, same SQL, same page cache size; warm cache"))
    return out, detail


def cold_suite(enc_file: Path, key: bytes, plain_file: Path, queries: dict[str, list[str]]) -> dict[str, Any]:
    """The same suite with a new connection (empty page cache) per query: every page read is
    decrypted (the OS file cache is warm for both)."""
    import sqlcipher3.dbapi2 as sq

    from crm_tui.store import db

    def run(open_: Callable[[], Any]) -> float:
        total = 0.0
        for qt in QUERY_TYPES:
            for q in queries[qt][:10]:
                def one() -> None:
                    c = open_()
                    raw_search(c, q)
                    c.close()
                total += timed(one)
        return total

    def enc() -> Any:
        c = db.raw_connect(enc_file, key)
        db._configure(c)
        return c

    def plain() -> Any:  # the same steps as db.raw_connect, without the key
        c = sq.connect(plain_file.resolve().as_uri() + "?mode=rw", uri=True, isolation_level=None)
        c.execute("SELECT count(*) FROM sqlite_master").fetchone()
        db._configure(c)
        return c

    run(enc), run(plain)
    e = min(run(enc) for _ in range(3))
    p = min(run(plain) for _ in range(3))
    return fig("encryption cost: query suite, new connection per query (cold page cache)", e, "ms", p,
               None, None, note="open + key check + query, every page read decrypted; OS file cache warm")


# ------------------------------------------------------------------------------------------------
# Other figures
# ------------------------------------------------------------------------------------------------


def paging(svc: Any, actor: Any, raw: Any, n: int) -> list[dict[str, Any]]:
    """First page of the list (empty query) at row 0 and at row n/2 (keyset cursor)."""
    from crm_tui.services import customers as cs
    from crm_tui.store.search_index import encode_cursor

    max_id = raw.execute("SELECT max(id) FROM customer").fetchone()[0]
    mid = encode_cursor("l", None, max_id - n // 2)
    for _ in range(5):
        cs.search(svc, actor, "", limit=PAGE)
        cs.search(svc, actor, "", cursor=mid, limit=PAGE)
    first, middle = [], []
    for _ in range(100):  # interleaved, so a busy moment hits both
        first.append(timed(lambda: cs.search(svc, actor, "", limit=PAGE)))
        middle.append(timed(lambda: cs.search(svc, actor, "", cursor=mid, limit=PAGE)))
    rows = cs.search(svc, actor, "", cursor=mid, limit=PAGE).rows
    assert rows and abs(rows[0].id - (max_id - n // 2)) <= 2, "cursor did not land at the middle row"
    raw_first = [timed(lambda: raw.execute(ROWS_SQL.format(ids=",".join(str(r[0]) for r in raw.execute(
        "SELECT id FROM customer WHERE erased_at IS NULL ORDER BY id DESC LIMIT 100")))).fetchall())
        for _ in range(60)]
    m0, m1 = statistics.median(first), statistics.median(middle)
    return [
        fig("list first page (service, empty query): median", m0, "ms", statistics.median(raw_first),
            None, None, note="baseline: raw SQL for the same 100 display rows"),
        fig(f"list page at row {n // 2:,} vs row 0 (service): median", m1, "ms", m0, "within 1.5x", m1 <= 1.5 * m0),
    ]


def make_plain_copy(db_file: Path, key: bytes, plain: Path) -> None:
    from crm_tui.store import db

    plain.unlink(missing_ok=True)
    c = db.raw_connect(db_file, key)
    c.execute(f"ATTACH DATABASE '{plain}' AS p KEY ''")
    c.execute("SELECT sqlcipher_export('p')").fetchall()
    c.execute("DETACH DATABASE p")
    c.close()


def startup(folder: Path, rounds: int) -> list[dict[str, Any]]:
    probe = HERE / "probe.py"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "0"}

    def once(mode: str) -> tuple[float, float]:
        """(wall ms from spawn to the screen mounted, CPU ms of the child up to that moment).

        The CPU is what the child reports (time.process_time) when its screen is mounted, not its
        total at exit: the app loads its services in a worker after the login screen shows, and
        that later work is measured by the 'until sign-in can run' figure instead."""
        t0 = time.time()
        out = subprocess.run([sys.executable, str(probe), mode, str(folder)], capture_output=True, text=True,
                             env=env, timeout=300)
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-2000:])
        ready, cpu = (float(x) for x in out.stdout.strip().splitlines()[-1].split()[:2])
        return (ready - t0) * 1000, cpu

    once("start-app"), once("start-ready"), once("start-minimal")  # byte-compile and warm the file cache
    app, ready, mini = [], [], []
    for _ in range(rounds):  # interleaved, so a busy moment hits all
        app.append(once("start-app"))
        ready.append(once("start-ready"))
        mini.append(once("start-minimal"))
    aw, rw, mw = (statistics.median(x[0] for x in xs) for xs in (app, ready, mini))
    ac, rc, mc = (statistics.median(x[1] for x in xs) for xs in (app, ready, mini))
    a, r, m = (ac, rc, mc) if CPU else (aw, rw, mw)
    return [
        fig("cold start to the login screen, database opened (process start -> screen mounted): median",
            a, "ms", m, "within 1.5x of a minimal Textual app (Header + Footer)", a <= 1.5 * m,
            note=f"{rounds} runs each, headless, as crm-tui starts (ui.launch.prepare_app: file, key, lock and schema "
                 f"checked; no daily backup); CPU time of the process until the screen is mounted; "
                 f"wall {aw:.0f} vs {mw:.0f} ms"),
        fig("cold start until sign-in can run (login screen, first key typed, services loaded): median",
            r, "ms", m, None, None,
            note=f"the services (SQLAlchemy) load in a worker after the login screen shows; wall {rw:.0f} ms"),
    ]


def import_figs(folder: Path, rows: int, reps: int = 1) -> list[dict[str, Any]]:
    """The CSV import (services.importing: read, dry run with validation and duplicate checks,
    write with pinyin terms) into a new database, against a raw csv.reader -> executemany pipeline
    writing the same rows into the same tables and indexes; each in its own process (peak RSS).
    With ``reps`` > 1 the pair runs that many times, alternating, and each side's best CPU (and
    wall) time is kept: on shared cores one run's CPU time swings with the neighbours' load."""
    import shutil as sh

    sys.path.insert(0, str(HERE.parent))
    from benchmarks.backup_import import _csv

    work = folder / "import-bench"
    sh.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    csv_file = work / "customers.csv"
    _csv(rows, csv_file)
    out: dict[str, dict[str, Any]] = {}
    runs: dict[str, list[float]] = {"import-app": [], "import-raw": [], "import-raw-tight": []}
    try:
        for _rep in range(max(1, reps)):
            for mode in ("import-app", "import-raw", "import-raw-tight"):
                sh.rmtree(work / ("app" if mode == "import-app" else "raw"), ignore_errors=True)
                r = subprocess.run([sys.executable, str(HERE / "probe.py"), mode, str(work), str(csv_file)],
                                   capture_output=True, text=True, timeout=7200)
                if r.returncode != 0:
                    raise RuntimeError(r.stderr[-2000:])
                got = json.loads(r.stdout.strip().splitlines()[-1])
                runs[mode].append(got["cpu_s"])
                best = out.get(mode)
                out[mode] = got if best is None else {
                    **got, "cpu_s": min(best["cpu_s"], got["cpu_s"]), "wall_s": min(best["wall_s"], got["wall_s"]),
                    "rss_mib": max(best["rss_mib"], got["rss_mib"])}
    finally:
        sh.rmtree(work, ignore_errors=True)
    a, b, t = out["import-app"], out["import-raw"], out["import-raw-tight"]
    key = "cpu_s" if CPU else "wall_s"
    if reps > 1:
        a["note"] = (f"best of {reps} alternating runs (CPU s app {', '.join(f'{x:.2f}' for x in runs['import-app'])};"
                     f" raw {', '.join(f'{x:.2f}' for x in runs['import-raw'])}); ")
    return [
        fig(f"import of {rows:,} customers from a GBK CSV (read, validate, pinyin, write, indexes)", a[key], "s",
            b[key], "within 1.5x of raw csv -> executemany", a[key] <= 1.5 * b[key],
            note=a.get("note", "") + f"CPU time; wall {a['wall_s']:.1f} vs {b['wall_s']:.1f} s; {rows / a[key]:,.0f} rows/s "
                 f"(raw {rows / b[key]:,.0f}); "
                 f"{a['imported']:,} imported, {a['errors']} errors; baseline writes the same rows to the same "
                 f"tables and indexes (no validation, no pinyin, no audit)"),
        fig("import: peak RSS of the importing process", a["rss_mib"], "MiB", b["rss_mib"], None, None,
            note="baseline: the raw pipeline's process (it holds the same rows in memory)"),
        # for reading the figure above, no target of its own: the app leaves out of its INSERTs the
        # columns no row gives a value (the driver binds a None at ~1.5 us); the raw pipeline above
        # binds every column of its dump, NULLs included; this baseline leaves them out too
        fig(f"import of {rows:,} customers against a raw pipeline that leaves out its all-NULL columns", a[key], "s",
            t[key], None, None,
            note=f"no target (read beside the figure above); CPU time; raw without NULL columns "
                 f"{', '.join(f'{x:.2f}' for x in runs['import-raw-tight'])} s; the same rows, each table's "
                 f"columns NULL in every row left out of its INSERT as the app does"),
    ]


def dashboard_figs(svc: Any, raw: Any, n: int, reps: int = 7) -> list[dict[str, Any]]:
    """services.reports.dashboard (the home screen's data: queues and chart series, SQL aggregates)
    for a branch-wide reader (report.view) and for a customer manager (own customers), median of
    ``reps`` calls after one warm-up call; baseline: a raw ``SELECT count(*) FROM customer``."""
    try:
        from crm_tui.services import reports
    except ImportError:
        return [fig("dashboard load (services.reports.dashboard)", None, "ms", None, None, None,
                    note="not measured: services.reports is not in this build")]
    from crm_tui.services import staff

    def count() -> None:
        raw.execute("SELECT count(*) FROM customer").fetchone()

    count()
    base = [timed2(count) for _ in range(reps)]
    bw, bc = statistics.median(x[0] for x in base), statistics.median(x[1] for x in base)
    out = []
    for username, who in (("fujingli", "branch-wide (report.view)"), ("jingli", "a customer manager's own")):
        actor = staff.sign_in(svc, username, gen.PASSWORD).actor
        reports.dashboard(svc, actor)  # warm: imports, page cache
        xs = [timed2(lambda: reports.dashboard(svc, actor)) for _ in range(reps)]
        w, c = statistics.median(x[0] for x in xs), statistics.median(x[1] for x in xs)
        v, b = (c, bc) if CPU else (w, bw)
        out.append(fig(f"dashboard load at {n:,} customers, {who}: median", v, "ms", b,  # issue 22: summary tables
                       "under 50 ms CPU", c < 50,
                       note=f"services.reports.dashboard (queues + 12 weeks of chart series), {reps} calls; "
                            f"CPU; wall {w:.1f} ms; baseline: raw SELECT count(*) FROM customer (wall {bw:.1f} ms)"))
    return out


def ui_probe(folder: Path, queries: dict[str, list[str]]) -> dict[str, Any]:
    probe = HERE / "probe.py"
    words = [queries["full pinyin"][0], queries["3+-char Chinese"][0] if queries["3+-char Chinese"] else "张伟",
             queries["4-digit phone suffix"][0], queries["pinyin initials"][0], queries["2-char Chinese"][1]]
    out = subprocess.run([sys.executable, str(probe), "ui", str(folder), json.dumps(words)], capture_output=True,
                         text=True, timeout=1200)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    import sqlcipher3.dbapi2 as sq

    c = sq.connect(":memory:")
    ver = c.execute("PRAGMA cipher_version").fetchone()
    c.close()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "python": platform.python_version(),
            "os": platform.platform(), "sqlite": sq.sqlite_version, "sqlcipher": ver[0] if ver else "?",
            "load": os.getloadavg()[0]}


# ------------------------------------------------------------------------------------------------
# Main
# ------------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, required=True)
    ap.add_argument("--json", type=Path, required=True)
    ap.add_argument("--dir", type=Path)
    ap.add_argument("--reps", type=int, default=5, help="repetitions of each search query")
    ap.add_argument("--queries", type=int, default=20, help="distinct queries per query type")
    ap.add_argument("--passes", type=int, default=3, help="passes over the search suite (best p95 kept)")
    ap.add_argument("--skip", default="", help="comma list: ui,startup,backup,encryption,import,dashboard")
    ap.add_argument("--import-rows", type=int, default=20_000,
                    help="rows of the CSV import figure (the app imports ~3,000-4,000 rows/s on this machine)")
    ap.add_argument("--import-reps", type=int, default=1,
                    help="runs of the import pair, alternating; the best CPU time of each side is kept")
    ap.add_argument("--no-md", action="store_true", help="do not rewrite benchmarks/RESULTS.md")
    ap.add_argument("--only", choices=("dashboard", "startup", "import", "backup"),
                    help="measure only this section and replace its figures in an existing --json "
                         "(import: needs no generated database; works in --dir or /tmp/crm-import-bench)")
    args = ap.parse_args()
    n = args.customers
    if args.only == "import":
        only_import(args)
        return
    folder = args.dir or Path(f"/tmp/crmbench/c{n}")
    skip = set(filter(None, args.skip.split(",")))
    figures: list[dict[str, Any]] = []
    meta: dict[str, Any] = {"customers": n, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                            "machine": machine()}
    t_start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t_start:7.1f} s] {msg}", file=sys.stderr, flush=True)
        save()

    def save() -> None:
        """Written after every section, so a run cut short still leaves what it measured."""
        meta["run_s"] = round(time.perf_counter() - t_start, 1)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n")
        args.json.with_suffix(".meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n")

    if not (folder / "data" / "crm.db").exists():
        log(f"generating {n:,} customers into {folder}")
        svc0, _k = gen.create_db(folder)
        try:
            secs = gen.generate(svc0, n, progress=True)
            areas = gen.generate_areas(svc0, progress=True)
        finally:
            svc0.close()
        meta["generated_s"] = round(secs, 1)
        meta["generated_areas"] = {k: round(v, 1) for k, v in areas.items()}
        figures.append(fig("generate (benchmarks/gen.py, bulk, incl. pinyin, terms and audit chain)",
                           n / secs, "customers/s", None, None, None))
        figures.append(fig("generate follow-up cards, visits, complaints, grade changes (benchmarks/gen_areas.py)",
                           n / areas["seconds"], "customers/s", None, None, None,
                           note=f"{areas['cards']:,.0f} cards, {areas['visits']:,.0f} visits, "
                                f"{areas['complaints']:,.0f} complaints, {areas['grade_applications']:,.0f} grade "
                                f"changes, {areas['audit']:,.0f} audit entries"))
    from crm_tui.services import customers as cs
    from crm_tui.services import staff
    from crm_tui.store import db

    svc = gen.open_db(folder, clock=datetime.now)
    key = bytes.fromhex((folder / "bench.key").read_text().strip())
    db_file = folder / "data" / "crm.db"
    real_n = int(db.scalar(svc.store, "SELECT count(*) FROM customer"))  # type: ignore[arg-type]
    if real_n != n:
        log(f"note: the database holds {real_n:,} customers")
        n = meta["customers"] = real_n
    size = db_file.stat().st_size
    figures.append(fig("database size per customer", size / n / 1024, "KiB", None, "5 KiB or less at 1M",
                       size / n / 1024 <= 5 if n >= 1_000_000 else None,
                       note=f"{size / 2**20:.0f} MiB file for {n:,} customers"))
    actor = staff.sign_in(svc, "jingli", gen.PASSWORD).actor

    raw = db.raw_connect(db_file, key)
    db._configure(raw)
    if args.only:
        old = json.loads(args.json.read_text()) if args.json.exists() else []
        prefix = {"dashboard": "dashboard load", "startup": "cold start", "backup": "backup"}[args.only]
        new = dashboard_figs(svc, raw, n) if args.only == "dashboard" else []
        if args.only == "backup":
            new = fig_backup.backup_figs(db_file, key, folder, fig)
        raw.close()
        svc.close()
        if args.only == "startup":
            new = startup(folder, 9)
        when = datetime.now(timezone.utc).isoformat(timespec="minutes")
        for f in new:
            f["note"] = (f.get("note", "") + f"; measured alone (run.py --only {args.only}) at {when}").lstrip("; ")
        at = next((i for i, f in enumerate(old) if f["name"].startswith(prefix)), len(old))
        figures[:] = [f for f in old[:at] if not f["name"].startswith(prefix)] + new + \
            [f for f in old[at:] if not f["name"].startswith(prefix)]
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n")  # its meta stays
        if not args.no_md:
            write_results()
        print(f"done ({args.only} only): {args.json}", file=sys.stderr)
        return
    queries = pick_queries(raw, args.queries)
    meta["example_queries"] = {k: v[:3] for k, v in queries.items()}

    plain = None
    plain_file = folder / "plain.db"
    if "encryption" not in skip:
        log("plain SQLite copy for the encryption cost")
        make_plain_copy(db_file, key, plain_file)
        import sqlcipher3.dbapi2 as sq

        plain = sq.connect(str(plain_file), isolation_level=None)
        db._configure(plain)
    log("search suite")
    sfigs, detail = search_suite(svc, actor, raw, queries, args.reps, n, plain, args.passes)
    figures += sfigs
    meta["search_detail"] = detail
    if plain is not None:
        plain.close()
        log("cold-cache encryption cost")
        figures.append(cold_suite(db_file, key, plain_file, queries))
        log("size breakdown (dbstat of the plain copy)")
        figures += fig_size.size_figs(plain_file, db_file, n)
        plain_file.unlink(missing_ok=True)
    log("paging")
    figures += paging(svc, actor, raw, n)
    if "dashboard" not in skip:
        log("dashboard")
        figures += dashboard_figs(svc, raw, n)
    raw.close()
    svc.close()

    if "startup" not in skip:
        log("start-up")
        figures.extend(startup(folder, 9))
    if "ui" not in skip:
        log("UI probe (Pilot): keystrokes, first page, page-down, memory")
        u = ui_probe(folder, queries)
        meta["ui"] = u
        k = "_cpu" if CPU else ""
        km, kp, nm, np_ = u[f"key{k}_median"], u[f"key{k}_p95"], u[f"noop{k}_median"], u[f"noop{k}_p95"]
        sm, sp = u[f"same{k}_median"], u[f"same{k}_p95"]
        wall = (f"wall: median {u['key_median']:.0f} vs {u['same_median']:.0f} ms, p95 {u['key_p95']:.0f} vs "
                f"{u['same_p95']:.0f} ms")
        same = "baseline: the same keys into the same screen with its search handler doing nothing, interleaved"
        figures.append(fig("keystroke to settled results, list screen (Pilot): median", km, "ms", sm,
                           "within 3x of a do-nothing key handler", km <= 3 * sm,
                           note=f"{u['keys']} keystrokes, CPU time of the app process; {same}; {wall}"))
        figures.append(fig("keystroke to settled results, list screen (Pilot): p95", kp, "ms", sp,
                           "within 4x of a do-nothing key handler", kp <= 4 * sp))
        figures.append(fig("keystroke to settled results vs a minimal app: median", km, "ms", nm, None, None,
                           note="baseline: a do-nothing handler in a 4-widget app (Header, Input, DataTable, "
                                f"Footer); p95 {kp:.1f} vs {np_:.1f} ms. Typing into the list screen costs "
                                f"{sm:.1f} ms with no work at all (its ~40 widgets: layout, repaint and Pilot's "
                                "settling, which waits on every widget)"))
        figures.append(fig("list screen first paint (F2 from home to rows shown)", u[f"open_list{k or '_ms'}"], "ms",
                           u[f"noop_screen{k or '_ms'}"], "within 3x of an empty screen",
                           u[f"open_list{k or '_ms'}"] <= 3 * u[f"noop_screen{k or '_ms'}"],
                           note=f"baseline: pushing an empty screen with a DataTable; wall {u['open_list_ms']:.0f} ms; "
                                f"to the first refresh showing rows (count, filter row after it: settled at "
                                f"{u.get('open_list_settled' + (k or '_ms'), 0):.0f} ms)"))
        figures.append(fig("page-down in the list (Pilot): median", u[f"pagedown{k}_median"], "ms", sm, None, None,
                           note=f"{u['pagedowns']} presses from the top; baseline: do-nothing keystroke in the same screen; wall "
                                f"{u['pagedown_median']:.0f} ms"))
        figures.append(fig("table rows held at most (after paging through)", u["max_rows"], "rows", None,
                           "about 1,000 or fewer", u["max_rows"] <= 1100))
        figures.append(fig("peak RSS of the app, list open and searched", u["peak_rss_mib"], "MiB",
                           u["noop_rss_mib"], "under 200 MB", u["peak_rss_mib"] * 1.048576 < 200,
                           note="baseline: the do-nothing Textual app"
                                + (f"; {u['pool_connections']} pooled database connections, each with a page cache of up"
                                   f" to {db.CACHE_KIB // 1024} MiB" if "pool_connections" in u else "")))
    if "backup" not in skip:
        log("backup")
        figures += fig_backup.backup_figs(db_file, key, folder, fig)
    if "import" not in skip:
        rows = min(n, args.import_rows)
        log(f"import of {rows:,} CSV rows (app vs raw csv -> executemany)")
        figures += import_figs(folder, rows, args.import_reps)
    meta["complete"] = True
    save()
    if not args.no_md:
        write_results()
    log(f"done: {args.json}")


def only_import(args: argparse.Namespace) -> None:
    """``--only import``: the CSV import figures alone (``--import-rows`` rows, in a scratch folder,
    no generated database needed), replacing the import figures of an existing ``--json``."""
    folder = args.dir or Path("/tmp/crm-import-bench")
    rows = args.import_rows
    print(f"import of {rows:,} CSV rows (app vs raw csv -> executemany) in {folder}", file=sys.stderr, flush=True)
    new = import_figs(folder, rows, args.import_reps)
    when = datetime.now(timezone.utc).isoformat(timespec="minutes")
    load = os.getloadavg()[0]
    for f in new:
        f["note"] = (f.get("note", "") + f"; measured alone (run.py --only import) at {when}, "
                     f"load {load:.1f} on {os.cpu_count()} shared cores").lstrip("; ")
    old = json.loads(args.json.read_text()) if args.json.exists() else []
    at = next((i for i, f in enumerate(old) if f["name"].startswith("import")), len(old))
    figures = [f for f in old[:at] if not f["name"].startswith("import")] + new + \
        [f for f in old[at:] if not f["name"].startswith("import")]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=1) + "\n")  # its meta stays
    if not args.no_md:
        write_results()
    for f in new:
        print(f"{f['name']}: {f['value']:.3f} {f['unit']} vs {f['baseline']:.3f} (ratio {f['ratio']}); {f['note']}",
              file=sys.stderr)


def write_results() -> None:
    """benchmarks/RESULTS.md from every results/*.json (with its .meta.json)."""
    res = HERE / "results"
    runs = []
    for f in sorted(res.glob("*.json")):
        if f.name.endswith(".meta.json"):
            continue
        meta_f = f.with_suffix(".meta.json")
        meta = json.loads(meta_f.read_text()) if meta_f.exists() else {}
        runs.append((meta.get("customers", 0), f, meta, json.loads(f.read_text())))
    runs.sort(key=lambda r: r[0])
    lines = ["# Benchmark results", "",
             "Written by `benchmarks/run.py` from `benchmarks/results/*.json`; see README.md for what each "
             "figure means. Every figure stands beside its baseline measured in the same run.", ""]
    for n, f, meta, figs in runs:
        m = meta.get("machine", {})
        lines += [f"## {n:,} customers ({f.name})", "",
                  f"Date {meta.get('date', '?')}; {m.get('cpu', '?')}, {m.get('cores', '?')} cores (shared, load "
                  f"{m.get('load', 0):.1f} at start), {m.get('memory', '?')}; Python {m.get('python', '?')}, SQLite "
                  f"{m.get('sqlite', '?')}, SQLCipher {m.get('sqlcipher', '?')}; run took {meta.get('run_s', '?')} s"
                  + (f" plus {meta['generated_s']} s generating" if meta.get("generated_s") else "") + "."
                  + ("" if meta.get("complete") else " **The run was cut short: only the figures below were measured.**"),
                  "",
                  "| Figure | Value | Baseline | Ratio | Target | Met |", "|---|---:|---:|---:|---|:---:|"]
        for x in figs:
            val = "-" if x["value"] is None else f"{x['value']:,.3f} {x['unit']}".replace(".000 ", " ")
            base = "-" if x["baseline"] is None else f"{x['baseline']:,.3f} {x['unit']}".replace(".000 ", " ")
            met = {True: "yes", False: "**no**", None: ""}[x["met"]]
            name = x["name"] + (f" <br><sub>{x['note']}</sub>" if x.get("note") else "")
            lines.append(f"| {name} | {val} | {base} | {x['ratio'] if x['ratio'] is not None else '-'} | "
                         f"{x['target'] or ''} | {met} |")
        lines.append("")
    notes = HERE / "results" / "NOTES.md"
    if notes.exists():
        lines += [notes.read_text().rstrip(), ""]
    (HERE / "RESULTS.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()

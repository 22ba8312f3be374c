"""Child processes of run.py (each measurement in a fresh interpreter).

    probe.py start-app <dir>      print time.time() when the login screen is mounted (database opened)
    probe.py start-ready <dir>    ... and the services loaded (sign-in can run)
    probe.py start-minimal <dir>  the same for a minimal Textual app (Header + Footer)
    probe.py ui <dir> <json words> the real app under Pilot: sign in, F2, type, page down; JSON out
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def open_db(folder: Path):  # type: ignore[no-untyped-def]
    """gen.open_db without importing gen (whose imports the app does not need)."""
    from datetime import datetime

    from crm_tui.services import system
    from crm_tui.store.keys import MemoryKeyStore

    key = bytes.fromhex((folder / "bench.key").read_text().strip())
    ks = MemoryKeyStore()
    place = system.Place(folder / "data", ks)
    ks.put(place.db_file, key)
    return system.open_services(place, clock=datetime.now)


PASSWORD = "demo1234"


def _rss_now_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _rss_mib() -> float:
    """Peak resident set of this process (VmHWM). Not ru_maxrss: Linux carries that over from the
    parent across exec, so a child of a big parent would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _p95(xs: list[float]) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))]


async def start_app(folder: Path, ready: bool = False) -> None:
    """The real start (ui.launch.prepare_app: database file, key, lock and schema checked, app built),
    without the once-a-day backup. ``ready``: then type one key and wait until the services have
    loaded (the app loads them in a worker at the first key, or 2 s after the login screen
    shows), i.e. until sign-in can run. Prints the wall time and this process's CPU ms so far."""
    from types import SimpleNamespace

    from crm_tui.ui.launch import prepare_app
    from crm_tui.store import paths
    from crm_tui.store.keys import MemoryKeyStore

    ks = MemoryKeyStore()
    data = folder / "data"
    ks.put(paths.db_path(data), bytes.fromhex((folder / "bench.key").read_text().strip()))
    app = prepare_app(SimpleNamespace(data_dir=data, key_store=ks), daily_backup=False)
    async with app.run_test(size=(120, 40)) as pilot:
        from crm_tui.ui.screens.login import LoginScreen

        while not (isinstance(app.screen, LoginScreen) and app.screen.is_mounted):
            await pilot.pause()
        await pilot.pause()
        if ready:  # the user starts typing the user name: the services load (ui/app.py)
            await pilot.press("a")
            while getattr(app.svc, "lazy_pending", False):
                await pilot.pause(0.005)
        print(time.time(), time.process_time() * 1000, flush=True)
        if os.environ.get("PROBE_MODULES"):  # what was imported by then (diagnosis)
            print(sorted(m for m in sys.modules if m.split(".")[0] in ("crm_tui", "sqlalchemy", "alembic")),
                  file=sys.stderr)
        # Close the database as the app does at a normal exit (after the figures are printed, so not
        # measured): the next run then starts as after a user's clean quit. Without it the services'
        # -wal stayed behind like a crashed process's, and the next start checked every page
        # (store/pagecheck.py: ~16 s CPU at 1M), which is the start after a crash, not a cold start.
        app.svc.close()
        os._exit(0)


def _minimal_app():  # type: ignore[no-untyped-def]
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Header

    class Minimal(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield Footer()

    return Minimal()


async def start_minimal() -> None:
    app = _minimal_app()
    async with app.run_test(size=(120, 40)) as pilot:
        while not app.screen.is_mounted:
            await pilot.pause()
        await pilot.pause()
        print(time.time(), time.process_time() * 1000, flush=True)
        if os.environ.get("PROBE_MODULES"):  # what was imported by then (diagnosis)
            print(sorted(m for m in sys.modules if m.split(".")[0] in ("crm_tui", "sqlalchemy", "alembic")),
                  file=sys.stderr)
        os._exit(0)


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def timed_press(pilot, key: str, walls: list[float], cpus: list[float]) -> None:  # type: ignore[no-untyped-def]
    """Press ``key`` and wait until the app has settled; the wall and CPU ms go to the lists."""
    t0, c0 = time.perf_counter(), time.process_time()
    await pilot.press(key)
    await settle(pilot)
    walls.append((time.perf_counter() - t0) * 1000)
    cpus.append((time.process_time() - c0) * 1000)


async def type_word(pilot, word: str, walls: list[float], cpus: list[float]) -> None:  # type: ignore[no-untyped-def]
    """Clear the box (Ctrl+U, not timed), then type ``word`` one timed key at a time."""
    await pilot.press("ctrl+u")
    await settle(pilot)
    for ch in word:
        await timed_press(pilot, ch, walls, cpus)


async def ui(folder: Path, words: list[str]) -> None:
    from textual.app import App, ComposeResult
    from textual.screen import Screen
    from textual.widgets import DataTable, Footer, Header, Input

    result: dict[str, object] = {}

    # -- baseline: a do-nothing key handler in an app of the same shape --------------------------
    class Noop(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield Input(id="q")
            yield DataTable()
            yield Footer()

        def on_input_changed(self, event: Input.Changed) -> None:
            pass  # does nothing

    class Empty(Screen[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield DataTable()
            yield Footer()

    noop_ms: list[float] = []
    noop_cpu: list[float] = []
    app0 = Noop()
    async with app0.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        for _round in range(2):
            for w in words:
                await type_word(pilot, w, noop_ms, noop_cpu)
        t0, c0 = time.perf_counter(), time.process_time()
        await app0.push_screen(Empty())
        await settle(pilot)
        result["noop_screen_ms"] = (time.perf_counter() - t0) * 1000
        result["noop_screen_cpu"] = (time.process_time() - c0) * 1000
    result["noop_rss_mib"] = _rss_mib()

    # -- the real app ------------------------------------------------------------------------------
    from crm_tui.ui.app import make_app
    from crm_tui.ui.screens.customers import CustomerListScreen

    svc = open_db(folder)
    app = make_app(svc)
    key_ms: list[float] = []
    down_ms: list[float] = []
    key_cpu: list[float] = []
    down_cpu: list[float] = []
    max_rows = 0
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        for ch in "jingli":
            await pilot.press(ch)
        await pilot.press("enter")
        for ch in PASSWORD:
            await pilot.press(ch)
        await pilot.press("enter")
        await settle(pilot)
        # First paint = the first screen refresh that shows rows (the screen loads its count and
        # fills its filter row after that, issue 22): a callback queued with the first page runs
        # after the refresh that painted it, before the screen's own later work.
        painted: dict[str, float] = {}
        show = CustomerListScreen._show

        def first_show(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            def mark() -> None:
                if self.rows and not painted:
                    painted.update(wall=time.perf_counter(), cpu=time.process_time())

            if not painted:
                self.call_after_refresh(mark)
            return show(self, *args, **kwargs)

        CustomerListScreen._show = first_show  # type: ignore[method-assign]
        t0, c0 = time.perf_counter(), time.process_time()
        await pilot.press("f2")
        while not painted:
            await settle(pilot)
        await settle(pilot)
        result["open_list_settled_ms"] = (time.perf_counter() - t0) * 1000
        result["open_list_settled_cpu"] = (time.process_time() - c0) * 1000
        CustomerListScreen._show = show  # type: ignore[method-assign]
        result["open_list_ms"] = (painted["wall"] - t0) * 1000
        result["open_list_cpu"] = (painted["cpu"] - c0) * 1000
        screen = app.screen
        assert isinstance(screen, CustomerListScreen)
        # The same keystrokes into the same screen with its search replaced by a do-nothing handler,
        # interleaved with the real ones: what typing into this screen costs before any work (Textual
        # redraws the box; Pilot's settling waits on every widget of the screen).
        same_ms: list[float] = []
        same_cpu: list[float] = []
        for _round in range(2):
            for noop in (False, True):
                if noop:
                    screen.run_search = lambda *a, **k: None  # type: ignore[method-assign]
                else:
                    screen.__dict__.pop("run_search", None)
                walls, cpus = (same_ms, same_cpu) if noop else (key_ms, key_cpu)
                for w in words:
                    await type_word(pilot, w, walls, cpus)
                    if not noop:
                        result.setdefault("found", {})[w] = screen.query_one("#customer-status").render().plain  # type: ignore[index,attr-defined]
        screen.__dict__.pop("run_search", None)
        # page down through the whole list from the top
        await pilot.press("ctrl+u")
        await settle(pilot)
        await pilot.press("down")
        await settle(pilot)
        table = screen.query_one(DataTable)
        for _i in range(60):
            await timed_press(pilot, "pagedown", down_ms, down_cpu)
            max_rows = max(max_rows, table.row_count)
        result["rows_seen_last"] = screen.rows[-1].number if screen.rows else None
        pool = svc.store.engine.pool
        result["pool_connections"] = pool.checkedin() + pool.checkedout()  # type: ignore[attr-defined]
        result["rss_now_mib"] = _rss_now_mib()
    result.update(
        keys=len(key_ms), key_median=statistics.median(key_ms), key_p95=_p95(key_ms),
        noop_median=statistics.median(noop_ms), noop_p95=_p95(noop_ms),
        pagedowns=len(down_ms), pagedown_median=statistics.median(down_ms), pagedown_p95=_p95(down_ms),
        key_cpu_median=statistics.median(key_cpu), key_cpu_p95=_p95(key_cpu), noop_cpu_median=statistics.median(noop_cpu),
        noop_cpu_p95=_p95(noop_cpu), pagedown_cpu_median=statistics.median(down_cpu),
        same_median=statistics.median(same_ms), same_p95=_p95(same_ms),
        same_cpu_median=statistics.median(same_cpu), same_cpu_p95=_p95(same_cpu),
        max_rows=max_rows, peak_rss_mib=_rss_mib(),
    )
    print(json.dumps(result, ensure_ascii=False), flush=True)
    os._exit(0)


IMPORT_TABLES = ("customer", "customer_phone", "customer_tag", "customer_staff", "customer_consent", "search_term")


def _import_db(folder: Path):  # type: ignore[no-untyped-def]
    """A new empty database with one administrator (the importing account)."""
    from crm_tui.services import staff, system
    from crm_tui.services.context import Actor
    from crm_tui.store.keys import MemoryKeyStore

    place = system.Place(folder, MemoryKeyStore())
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    system.create_empty(place)
    svc = system.open_services(place)
    sid = staff.create_first_admin(svc, "admin", "Boss-pass-2026", "管理员")
    return svc, Actor(sid, "admin", "管理员", frozenset({"admin"}))


def import_app(work: Path, csv_file: Path) -> None:
    """services.importing as the import screen runs it: read + decode, dry run (validation,
    duplicate checks), write (customers, phones, tags, pinyin search terms, audit); no backup
    before it. Then dumps the written rows for import_raw (untimed). JSON out."""
    import pickle

    from crm_tui.services import importing

    svc, admin = _import_db(work / "app")
    t0, c0 = time.perf_counter(), time.process_time()
    table = importing.read_file(csv_file)
    p = importing.plan(svc, admin, table)
    result = importing.run(svc, admin, p, backup=False)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = _rss_mib()  # the import's peak, before the dump below (which holds every written row)
    raw = svc.store.engine.raw_connection()
    try:
        conn = raw.driver_connection
        dump = {}
        for t in IMPORT_TABLES:
            cols = [r[1] for r in conn.execute(f"PRAGMA table_info({t})").fetchall()]
            dump[t] = (cols, conn.execute(f"SELECT {', '.join(cols)} FROM {t}").fetchall())
    finally:
        raw.close()
    svc.close()
    (work / "rows.pickle").write_bytes(pickle.dumps(dump))
    print(json.dumps({"cpu_s": cpu, "wall_s": wall, "rss_mib": rss, "imported": result.imported,
                      "errors": p.bad_rows, "duplicates": len(p.duplicates)}))


def import_raw(work: Path, csv_file: Path, *, tight: bool = False) -> None:
    """The raw pipeline: csv.reader over the same file, then one executemany per table into a new
    database with the same schema and indexes, writing the same rows the app wrote (taken from
    its dump before the clock starts: no validation, no pinyin, no audit). JSON out.

    ``tight`` (import-raw-tight): the same, but each table's columns that are NULL in every row are
    left out of its INSERT, as the app's import does since 2026-12-07; the driver binds each None
    parameter at ~1.5 us, and the dump's customer rows hold ~36 such columns of 57."""
    import csv
    import io
    import pickle

    from crm_tui.store.db import raw_connect

    svc, _admin = _import_db(work / "raw")
    db_file, key = svc.store.db_file, svc.store.key
    svc.close()
    dump = pickle.loads((work / "rows.pickle").read_bytes())
    if tight:  # before the clock starts, as the dump itself
        for table, (cols, data) in list(dump.items()):
            if data:
                keep = [i for i in range(len(cols)) if any(r[i] is not None for r in data)]
                dump[table] = ([cols[i] for i in keep], [tuple(r[i] for i in keep) for r in data])
    conn = raw_connect(db_file, key)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")  # as the app's connections
    t0, c0 = time.perf_counter(), time.process_time()
    rows = list(csv.reader(io.StringIO(csv_file.read_bytes().decode("gbk"), newline="")))
    conn.execute("BEGIN IMMEDIATE")
    for table, (cols, data) in dump.items():
        if data:
            conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                             sorted(data) if table == "search_term" else data)
    conn.execute("COMMIT")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    conn.close()
    print(json.dumps({"cpu_s": cpu, "wall_s": wall, "rss_mib": _rss_mib(), "csv_rows": len(rows) - 1}))


def main() -> None:
    mode, folder = sys.argv[1], Path(sys.argv[2])
    if mode == "start-app":
        asyncio.run(start_app(folder))
    elif mode == "import-app":
        import_app(folder, Path(sys.argv[3]))
    elif mode == "import-raw":
        import_raw(folder, Path(sys.argv[3]))
    elif mode == "import-raw-tight":
        import_raw(folder, Path(sys.argv[3]), tight=True)
    elif mode == "start-ready":
        asyncio.run(start_app(folder, ready=True))
    elif mode == "start-minimal":
        asyncio.run(start_minimal())
    elif mode == "ui":
        asyncio.run(ui(folder, json.loads(sys.argv[3])))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()

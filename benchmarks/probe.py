"""Child processes of run.py (each measurement in a fresh interpreter).

    probe.py start-app <dir>      print time.time() when the login screen is mounted (database opened)
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


async def start_app(folder: Path) -> None:
    from crm_tui.ui.app import make_app

    svc = open_db(folder)
    app = make_app(svc)
    async with app.run_test(size=(120, 40)) as pilot:
        from crm_tui.ui.screens.login import LoginScreen

        while not (isinstance(app.screen, LoginScreen) and app.screen.is_mounted):
            await pilot.pause()
        await pilot.pause()
        print(time.time(), flush=True)
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
        print(time.time(), flush=True)
        os._exit(0)


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


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
                await pilot.press("ctrl+u")
                await settle(pilot)
                for ch in w:
                    t0, c0 = time.perf_counter(), time.process_time()
                    await pilot.press(ch)
                    await settle(pilot)
                    noop_ms.append((time.perf_counter() - t0) * 1000)
                    noop_cpu.append((time.process_time() - c0) * 1000)
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
        t0, c0 = time.perf_counter(), time.process_time()
        await pilot.press("f2")
        while not (isinstance(app.screen, CustomerListScreen) and app.screen.rows):
            await settle(pilot)
        result["open_list_ms"] = (time.perf_counter() - t0) * 1000
        result["open_list_cpu"] = (time.process_time() - c0) * 1000
        screen = app.screen
        assert isinstance(screen, CustomerListScreen)
        for _round in range(2):
            for w in words:
                await pilot.press("ctrl+u")
                await settle(pilot)
                for ch in w:
                    t0, c0 = time.perf_counter(), time.process_time()
                    await pilot.press(ch)
                    await settle(pilot)
                    key_ms.append((time.perf_counter() - t0) * 1000)
                    key_cpu.append((time.process_time() - c0) * 1000)
                result.setdefault("found", {})[w] = screen.query_one("#customer-status").render().plain  # type: ignore[index,attr-defined]
        # page down through the whole list from the top
        await pilot.press("ctrl+u")
        await settle(pilot)
        await pilot.press("down")
        await settle(pilot)
        table = screen.query_one(DataTable)
        for _i in range(60):
            t0, c0 = time.perf_counter(), time.process_time()
            await pilot.press("pagedown")
            await settle(pilot)
            down_ms.append((time.perf_counter() - t0) * 1000)
            down_cpu.append((time.process_time() - c0) * 1000)
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
        max_rows=max_rows, peak_rss_mib=_rss_mib(),
    )
    print(json.dumps(result, ensure_ascii=False), flush=True)
    os._exit(0)


def main() -> None:
    mode, folder = sys.argv[1], Path(sys.argv[2])
    if mode == "start-app":
        asyncio.run(start_app(folder))
    elif mode == "start-minimal":
        asyncio.run(start_minimal())
    elif mode == "ui":
        asyncio.run(ui(folder, json.loads(sys.argv[3])))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()

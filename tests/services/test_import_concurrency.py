"""Other people working during an import (issue 17, item 7): the import writes in short
transactions and its rows stay invisible until published; a killed import leaves nothing visible
and is removed at the next open; two imports of one file at once leave one archive per ID number
(R-CUST-1); a write lock held elsewhere is a clear, retryable DatabaseBusy."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from crm_tui.domain.errors import DatabaseBusy
from crm_tui.services import customers, importing, reports, system
from crm_tui.services.customers import SearchFilters
from tests.helpers import cli
from tests.services.test_importing import _csv

HEADERS = ["客户名称", "手机", "身份证号码", "敏感信息同意", "负责人"]
_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _id_number(i: int) -> str:
    body = f"110101{1970 + i % 30}0{1 + i % 9}1{i % 10}{i % 1000:03d}"[:17]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _W)) % 11]


def _name(i: int) -> str:
    return "客户" + "".join("零一二三四五六七八九"[int(d)] for d in f"{i:03d}")


def _rows(n: int) -> list[list[str]]:
    return [[_name(i), f"139{i:08d}", _id_number(i), "是", "jingli"] for i in range(n)]


def _visible(crm) -> int:  # type: ignore[no-untyped-def]
    return int(customers.search(crm.svc, crm.manager, "", SearchFilters()).count_hint)


def _listed_names(crm, query: str = "") -> list[str]:  # type: ignore[no-untyped-def]
    return [r.name for r in customers.search(crm.svc, crm.manager, query, SearchFilters()).rows]


def test_rows_are_invisible_until_the_batch_is_published(crm, tmp_path, monkeypatch):
    f = _csv(tmp_path / "a.csv", _rows(7), "utf-8", HEADERS)
    admin = crm.actor("admin")
    before = _visible(crm)
    boss = crm.actor("deputy_manager")  # report.view, branch-wide
    home, month = reports.dashboard(crm.svc, boss), reports.pack(crm.svc, boss, "month")
    seen: list[tuple[int, list[str], list[str], int]] = []

    def after(done: int, total: int) -> None:  # between batches: committed, not published
        assert reports.dashboard(crm.svc, boss) == home and reports.pack(crm.svc, boss, "month") == month
        seen.append((_visible(crm), _listed_names(crm), _listed_names(crm, _name(1)),
                     crm.count("customer", "name LIKE '客户%'")))

    monkeypatch.setattr(importing.batch, "CHUNK", 3)
    monkeypatch.setattr(importing.batch, "_after_chunk", after)
    p = importing.plan(crm.svc, admin, importing.read_file(f))
    result = importing.run(crm.svc, admin, p, backup=False)
    assert result.imported == 7
    assert len(seen) == 3
    for visible, names, found, written in seen:
        assert visible == before and found == [] and not any(n.startswith("客户") for n in names)
        assert written > 0  # the rows are in the file, only hidden
    assert _visible(crm) == before + 7
    assert reports.pack(crm.svc, boss, "month") != month  # published: counted
    assert _listed_names(crm, _name(1)) == [_name(1)]
    assert crm.count("import_batch", "state = 'published'") == 1
    assert crm.count("customer", "number LIKE 'IMPORT-%'") == 0  # the range's placeholder is gone


def test_a_failed_import_leaves_nothing_behind(crm, tmp_path, monkeypatch):
    f = _csv(tmp_path / "a.csv", _rows(7), "utf-8", HEADERS)
    admin = crm.actor("admin")
    counts = crm.counts()

    def boom(done: int, total: int) -> None:
        if done >= 6:
            raise RuntimeError("disk full")

    monkeypatch.setattr(importing.batch, "CHUNK", 3)
    monkeypatch.setattr(importing.batch, "_after_chunk", boom)
    p = importing.plan(crm.svc, admin, importing.read_file(f))
    with pytest.raises(RuntimeError):
        importing.run(crm.svc, admin, p, backup=False)
    assert crm.counts() == counts
    assert crm.count("import_batch") == 0
    assert crm.count("audit_log", "action = 'import.discarded'") == 1


def test_two_imports_of_one_file_at_once_leave_one_archive_per_id_number_R_CUST_1(crm, tmp_path, monkeypatch):
    f = _csv(tmp_path / "same.csv", _rows(40), "utf-8", HEADERS)
    admin = crm.actor("admin")
    monkeypatch.setattr(importing.batch, "CHUNK", 5)
    svcs = [crm.svc, system.open_services(crm.place, clock=crm.clock)]  # two connections' worth of stores
    plans = [importing.plan(s, admin, importing.read_file(f)) for s in svcs]  # both dry runs see no duplicates
    assert all(len(p.ready) == 40 and not p.duplicates for p in plans)
    go = threading.Barrier(2)
    results: list[object] = [None, None]

    def run(i: int) -> None:
        go.wait()
        try:
            results[i] = importing.run(svcs[i], admin, plans[i], backup=False)
        except Exception as e:  # noqa: BLE001 - reported below
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        svcs[1].close()
    assert all(isinstance(r, importing.ImportResult) for r in results), results
    assert sum(r.imported for r in results) == 40  # type: ignore[union-attr]
    with crm.svc.store.read() as s:
        per_id = s.execute(text("SELECT id_number, count(*) FROM customer WHERE id_number IS NOT NULL"
                                " GROUP BY id_number")).all()
    assert len(per_id) == 40 and all(n == 1 for _, n in per_id)
    with crm.svc.store.read() as s:  # the skipped rows' search terms were dropped with them (batch._TermRuns)
        assert s.execute(text("SELECT count(*) FROM search_term WHERE customer_id NOT IN"
                              " (SELECT id FROM customer)")).scalar() == 0


def test_the_schema_refuses_a_second_live_archive_with_one_id_number(crm):
    from sqlalchemy.exc import IntegrityError

    idn = _id_number(3)
    with pytest.raises(IntegrityError):
        with crm.svc.store.write() as s:
            for n in ("C-X1", "C-X2"):
                s.execute(text("INSERT INTO customer (number, kind, name, id_number, important, false_info,"
                               " business_stopped, needs_informing, last_activity_at, version, created_at, updated_at)"
                               " VALUES (:n, 'person', '甲', :i, 0, 0, 0, 0, '2026-03-02', 1, '2026-03-02', '2026-03-02')"),
                          {"n": n, "i": idn})


def test_a_killed_import_leaves_nothing_visible_and_is_removed_at_the_next_open(crm, tmp_path):
    f = _csv(tmp_path / "a.csv", _rows(9), "utf-8", HEADERS)
    admin_id = crm.actor("admin").staff_id
    before = _visible(crm)
    counts = crm.counts()
    env = cli.make_env(tmp_path, crm.place.data_dir)
    proc = subprocess.Popen([sys.executable, "-m", "tests.helpers.import_killer", str(crm.place.data_dir), str(f),
                             str(admin_id)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=cli.REPO_ROOT)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(crm.key.hex() + "\n")
        proc.stdin.flush()
        assert proc.stdout.readline() == "batch\n", proc.stderr.read()  # type: ignore[union-attr]
        assert crm.count("customer", "name LIKE '客户%'") == 2  # one batch committed
        assert importing.discard_abandoned(crm.svc) == []  # still running: left alone
        assert "running" in {c.name: c for c in system.doctor(crm.place)}["unfinished imports"].detail
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdin.close()  # type: ignore[union-attr]
    assert _visible(crm) == before and _listed_names(crm, _name(0)) == []
    found = {c.name: c for c in system.doctor(crm.place)}["unfinished imports"]
    assert not found.ok and "a.csv" in found.detail and "interrupted" in found.detail
    notes = system.discard_abandoned_imports(crm.svc)  # what the next start (app or command) runs
    assert len(notes) == 1 and "a.csv" in notes[0] and "2 unpublished customers were removed" in notes[0]
    assert crm.counts() == counts and crm.count("import_batch") == 0
    assert not list(Path(crm.place.data_dir).glob("*.import-*.lock"))


def _hold_lock(crm, tmp_path, *extra: str) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    proc = subprocess.Popen([sys.executable, "-m", "tests.helpers.lock_holder", str(crm.place.db_file), *extra],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=cli.make_env(tmp_path, crm.place.data_dir), cwd=cli.REPO_ROOT)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(crm.key.hex() + "\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == "locked\n", proc.stderr.read()  # type: ignore[union-attr]
    return proc


def _release(proc: subprocess.Popen) -> None:  # type: ignore[type-arg]
    proc.stdin.close()  # type: ignore[union-attr]
    proc.wait(30)


@pytest.mark.parametrize("holder", ["import", "other"])
def test_a_save_while_another_process_holds_the_write_lock_is_database_busy(crm, tmp_path, holder):
    svc = system.open_services(crm.place, clock=crm.clock)
    svc.store.busy_ms = 300  # before the first connection
    counts = crm.counts()
    proc = _hold_lock(crm, tmp_path, *(["import"] if holder == "import" else []))
    try:
        with pytest.raises(DatabaseBusy) as e:
            customers.create_customer(svc, crm.manager, "person", {"name": "王五"}, phones=[customers.PhoneInput("13912345678")])
    finally:
        _release(proc)
    assert e.value.exit_code == 75
    if holder == "import":
        assert "Another import is writing" in e.value.message and "big.csv" in e.value.message
        assert "admin" in e.value.message and "09:41" in e.value.message
    else:
        assert "The database is busy" in e.value.message
    assert "save again" in e.value.message
    assert crm.counts() == counts
    customers.create_customer(svc, crm.manager, "person", {"name": "王五"}, phones=[customers.PhoneInput("13912345678")])  # the retry
    svc.close()

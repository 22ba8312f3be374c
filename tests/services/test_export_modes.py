"""Exports and reports are written owner-only (0600), their folder left as it was (issue 19, item 8;
R-SEC-4: the data leaves the encrypted file only under access control)."""

from __future__ import annotations

import os
import stat
from datetime import date, datetime
from pathlib import Path

import pytest

from crm_tui.services import complaints, customers as cs, followups, grades, reports
from crm_tui.services.customers import ConsentInput, PhoneInput
from crm_tui.services.files import private_file
from tests.services.conftest import Crm


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def loose_umask():  # type: ignore[no-untyped-def]
    old = os.umask(0o022)  # the usual desktop umask: files 0644 unless the app says otherwise
    try:
        yield
    finally:
        os.umask(old)


def test_r_sec_4_every_export_is_0600_and_the_folder_untouched(crm: Crm, tmp_path: Path, loose_umask) -> None:
    out = tmp_path / "out"
    out.mkdir(mode=0o755)
    os.chmod(out, 0o755)
    ref = cs.create_customer(crm.svc, crm.manager, "person", {"name": "张三"}, phones=[PhoneInput("13800138000")],
                             consents=[ConsentInput("客户服务", "basic", "verbal")])
    chief = crm.actor("section_chief")
    (out / "old.csv").write_text("stale")
    os.chmod(out / "old.csv", 0o644)
    written = [
        (lambda p: cs.export_list(crm.svc, chief, "", cs.SearchFilters(), p, "csv"), "old.csv"),
        (lambda p: cs.export_list(crm.svc, chief, "", cs.SearchFilters(), p, "xlsx"), "l.xlsx"),
        (lambda p: cs.export_customer(crm.svc, crm.manager, ref.id, p, "json"), "c.json"),
        (lambda p: cs.export_customer(crm.svc, crm.manager, ref.id, p, "xlsx"), "c.xlsx"),
        (lambda p: reports.export_xlsx(crm.svc, chief, reports.pack(crm.svc, chief, "week", date(2026, 11, 18)), p),
         "pack.xlsx"),
        (lambda p: reports.export_text(crm.svc, chief, reports.pack(crm.svc, chief, "week", date(2026, 11, 18)), p),
         "pack.txt"),
        (lambda p: grades.export_report(crm.svc, chief, date(2026, 11, 1), date(2026, 11, 22), p), "g.xlsx"),
        (lambda p: complaints.export_report(crm.svc, chief, complaints.report(
            crm.svc, chief, datetime(2026, 11, 1), datetime(2026, 11, 22)), p), "k.xlsx"),
        (lambda p: followups.export_review(crm.svc, chief, p, date(2026, 11, 18)), "f.xlsx"),
    ]
    for write, name in written:
        write(out / name)
        assert mode(out / name) == 0o600, name
    assert sorted(p.name for p in out.iterdir()) == sorted(n for _w, n in written)  # no .part left behind
    assert "stale" not in (out / "old.csv").read_text(encoding="utf-8-sig")
    assert mode(out) == 0o755


def test_a_failed_export_leaves_nothing(tmp_path: Path, loose_umask) -> None:
    target = tmp_path / "x.csv"
    with pytest.raises(RuntimeError):
        with private_file(target, "w", encoding="utf-8") as fh:
            fh.write("half")
            raise RuntimeError("disk gone")
    assert list(tmp_path.iterdir()) == []

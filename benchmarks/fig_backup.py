"""The backup figures (issue 22, item 5): ``store.backup.make_backup`` - one snapshot copied without
``VACUUM INTO`` (store.connection.copy_database), manifest - against ``cp`` of the same file, in the
same run.

Target: within 2x of ``cp``. Wall time is the figure (what an administrator waits for; ``cp`` spends
its time in the kernel, which the CPU figures of the other sections would not count fairly); both
sides' CPU (user + system) is in the note. ``cp`` runs before and after the backups and the faster run
is the baseline, so a cold page cache never flatters the ratio. The second figure (no target) is the
administrator's and the day's first backup, which also check every page's HMAC.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

NAME = "backup (store.backup.make_backup: one snapshot, file copy + manifest) vs cp of the same file"
NAME_CHECKED = "backup with every page checked (manual and daily backups) vs cp of the same file"


def _cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _cp(src: Path, dst: Path) -> tuple[float, float, float]:
    """(wall s, CPU s) of ``cp`` of the file, and the wall time of an fsync of the copy after it (a
    backup is fsynced before it counts; ``cp`` leaves the copy in the page cache)."""
    dst.unlink(missing_ok=True)
    c0, t0 = _cpu_children(), time.perf_counter()
    subprocess.run(["cp", str(src), str(dst)], check=True)
    wall, cpu = time.perf_counter() - t0, _cpu_children() - c0
    fd = os.open(dst, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    synced = time.perf_counter() - t0
    dst.unlink(missing_ok=True)
    return wall, cpu, synced


def _backup(db_file: Path, key: bytes, dest: Path, check: bool) -> tuple[float, float, dict[str, Any]]:
    from crm_tui.store import backup

    shutil.rmtree(dest, ignore_errors=True)
    c0, t0 = _cpu_self(), time.perf_counter()
    info = backup.make_backup(db_file, key, reason="bench", dest=dest, check_source=check)
    wall, cpu = time.perf_counter() - t0, _cpu_self() - c0
    shutil.rmtree(dest, ignore_errors=True)
    return wall, cpu, info.manifest


def backup_figs(db_file: Path, key: bytes, work: Path, fig: Any) -> list[dict[str, Any]]:
    dest = work / "backups-bench"
    cp_first = _cp(db_file, work / "cp-bench.db")
    wall, cpu, m = _backup(db_file, key, dest, False)
    cwall, ccpu, _m = _backup(db_file, key, dest, True)
    cp_wall, cp_cpu, cp_synced = min(cp_first, _cp(db_file, work / "cp-bench.db"))
    how = {"file": "the file's bytes under a pinned snapshot", "pages": "SQLite's online backup API"}.get(
        str(m.get("copy")), str(m.get("copy")))
    return [fig(NAME, wall, "s", cp_wall, "within 2x of cp", wall <= 2 * cp_wall,
                note=f"wall time; CPU {cpu:.1f} s vs {cp_cpu:.1f} s; cp + fsync {cp_synced:.2f} s; "
                     f"{m['size'] / 2**20:,.0f} MiB; copied as {how}"),
            fig(NAME_CHECKED, cwall, "s", cp_wall, "report (no target set)", None,
                note=f"wall time; CPU {ccpu:.1f} s vs {cp_cpu:.1f} s; + cipher_integrity_check of the copy")]

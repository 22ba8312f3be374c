"""What a schema upgrade on open says while it runs (issue 22).

Opening a file at an older schema upgrades it before anything shows (store/migrate.py: a safety
copy, each migration, a check of every reference, maybe a VACUUM): 45 s at 100k customers, about
11 minutes at 1M. A blank terminal for that long looks like a hang, and a clerk would kill it. So
the upgrade says, in the UI language and on the terminal (stderr: before the Textual app starts,
and for the CLI commands the same way), what it is doing, that a large file takes minutes and the
window must stay open, a line per step with the time it took, and the whole time at the end::

    正在将数据库从结构版本 2001 升级到 2202：/data/crm.db
    先为文件做一份安全副本，然后升级。文件较大时可能需要几分钟，请勿关闭此窗口。
      安全副本：/data/backups/pre-upgrade-2001-20261207-090000.db …… 完成（12.3 秒）
      升级到结构版本 2201（1/2）…… 完成（30.1 秒）
      ...
    数据库已升级到结构版本 2202，共用时 4 分 38 秒。

A file already at the newest schema, and a new file being created, say nothing. A failure ends the
open step's line ("failed") and leaves the message to the caller's usual error path.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TextIO

from crm_tui.i18n import _


def duration(seconds: float) -> str:
    """``12.3 秒`` under a minute, ``4 分 38 秒`` from a minute on."""
    if seconds < 60:
        return _("{seconds:.1f} s", seconds=seconds)
    whole = int(round(seconds))
    return _("{minutes} min {seconds} s", minutes=whole // 60, seconds=whole % 60)


class UpgradeNotes:
    """The lines of one upgrade, written to ``out`` (default: the process's stderr at the time)."""

    def __init__(self, out: TextIO | None = None) -> None:
        self._out = out
        self._started: float | None = None
        self._step_at: float | None = None  # an open step line (its start), ended by done() or failed()

    @property
    def out(self) -> TextIO:
        return self._out if self._out is not None else sys.stderr

    def _write(self, text: str) -> None:
        try:
            self.out.write(text)
            self.out.flush()
        except (OSError, ValueError):  # a closed or gone terminal: the upgrade goes on regardless
            pass

    def begin(self, db_file: Path, current: str, head: str) -> None:
        self._started = time.monotonic()
        self._write(_("Upgrading the database from schema {current} to {head}: {path}",
                      current=current, head=head, path=str(db_file)) + "\n")
        self._write(_("A safety copy of the file is made first, then the upgrade runs. A large file can take "
                      "several minutes: do not close this window.") + "\n")

    def step(self, text: str) -> None:
        """A step begins: its line stays open until ``done`` (or ``failed``)."""
        if self._step_at is not None:
            self.done()
        self._step_at = time.monotonic()
        self._write("  " + text + " …… ")

    def copy(self, target: Path) -> None:
        self.step(_("Safety copy: {path}", path=str(target)))

    def migration(self, revision: str, n: int, total: int) -> None:
        self.step(_("Upgrading to schema {revision} ({n}/{total})", revision=revision, n=n, total=total))

    def checking(self) -> None:
        self.step(_("Checking every reference and saving"))

    def vacuum(self) -> None:
        self.step(_("Giving the freed space back (VACUUM)"))

    def done(self) -> None:
        if self._step_at is None:
            return
        took = time.monotonic() - self._step_at
        self._step_at = None
        self._write(_("done ({time})", time=duration(took)) + "\n")

    def finished(self, head: str) -> None:
        self.done()
        took = time.monotonic() - (self._started or time.monotonic())
        self._write(_("The database was upgraded to schema {head} in {time}.", head=head, time=duration(took)) + "\n")

    def failed(self) -> None:
        """The step's line ends; the caller says why, as it always has."""
        if self._step_at is not None:
            self._step_at = None
            self._write(_("failed") + "\n")

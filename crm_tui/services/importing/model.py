"""What an import works with: the file's table, a dry run's plan and rows, the result, the errors
an import raises; and the garbage collector paused while one runs."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from crm_tui.domain import importing as rules
from crm_tui.domain.customers import FIELD_LABELS, fields_of
from crm_tui.domain.errors import Conflict, CrmError
from crm_tui.i18n import _

NAME_CACHE = 50_000  # distinct names whose search columns and terms a run keeps (~1.4 KiB each: ~70 MB at most;
# a file of 100,000 rows of near-unique names recomputed 30,000 of them with 10,000, ~0.3 s)
MAX_ROWS = 1_000_000
CONSENT_PURPOSE = "导入前原有档案中已取得的同意（敏感信息）"


class ImportFileError(CrmError):
    exit_code = 22


class ImportRefused(Conflict):
    exit_code = 23


class ImportCancelled(CrmError):
    exit_code = 130


@dataclass(frozen=True)
class Table:
    """A sheet read from a file: headers, rows (with their row numbers in the file), encoding."""

    name: str
    headers: list[str]
    rows: list[tuple[int, list[str]]]
    encoding: str  # utf-8-sig | utf-8 | gb18030 | xlsx
    sha256: str

    @property
    def encoding_label(self) -> str:
        return _(rules.ENCODINGS[self.encoding]) if self.encoding in rules.ENCODINGS else "XLSX"


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str


@dataclass(frozen=True)
class Duplicate:
    """A row that is already in the archive. Listed for decision; with ``duplicates="fill"`` the
    row's values fill the existing archive's *blank* fields (nothing is overwritten)."""

    row: int
    name: str
    existing_id: int
    existing_number: str
    matched: str  # id_number | uscc | phone
    values: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # the row's clean values
    consent: bool = field(default=False, compare=False, repr=False)


@dataclass
class _Ready:
    row: int
    kind: str
    clean: dict[str, Any]  # the row's clean values, blank (None) ones left out
    phones: list[Any]
    owner: int
    contacts: list[int]
    consent: bool


@dataclass
class Plan:
    """What an import would do: rows ready to write, errors by row, duplicates of the archive."""

    table: Table
    mapping: dict[str, str]
    ready: list[_Ready] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.table.rows)

    @property
    def bad_rows(self) -> int:
        return len({e.row for e in self.errors})


@dataclass(frozen=True)
class ImportResult:
    imported: int
    skipped_duplicates: int
    skipped_errors: int
    seconds: float
    backup: str | None
    filled: int = 0  # existing archives whose blank fields the import filled

    @property
    def rows_per_second(self) -> float:
        return self.imported / self.seconds if self.seconds > 0 else 0.0


def known_fields() -> dict[str, str]:
    """field -> label msgid, every field a column can be mapped to."""
    out = {f: FIELD_LABELS[f] for f in dict.fromkeys((*fields_of("person"), *fields_of("org")))}
    return {**out, **rules.EXTRA_FIELDS}


auto_mapping = rules.auto_mapping


_gc_lock = threading.Lock()
_gc_pauses = [0, False]  # imports running, whether the collector was enabled before the first


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Python's automatic cyclic garbage collection paused while an import runs: its loops
    allocate millions of small objects, and its older-generation collections rescanned the rows
    held so far again and again (~10-15 % of an import's CPU time). The loops call
    :func:`_gc_young` every few thousand rows instead, which frees the cycles they make (a caught
    validation error and its traceback) by scanning only the objects made since the last call."""
    with _gc_lock:
        if _gc_pauses[0] == 0:
            _gc_pauses[1] = gc.isenabled()
            gc.disable()
        _gc_pauses[0] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses[0] -= 1
            if _gc_pauses[0] == 0 and _gc_pauses[1]:
                gc.enable()


def _gc_young() -> None:
    gc.collect(0)


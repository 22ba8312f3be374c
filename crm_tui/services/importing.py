"""Importing customers from spreadsheets (issue 9): CSV in UTF-8, UTF-8 with BOM or GBK/GB18030,
and XLSX; a dry run with a per-row error report; then all valid rows, or nothing.

Each row is checked with the customer archive's own validation (``domain.customers``), its staff
names resolved like the form does, duplicates found against the archive (ID number, credit code,
phone) and within the file. Writing is bulk inserts (plain SQL executemany, the same rows
``services.customers.create_customer`` writes: customer, phones, tags, staff contacts, consents,
search terms) in short transactions of at most CHUNK rows (fewer when one holds the write lock past
HOLD_TARGET), so a desk saving meanwhile waits a fraction of a second (issue 17). The rows are an
import batch (store/pending.py): hidden from every list, count, report and search until one short
final transaction publishes them with ONE audit entry for the whole import. Each transaction checks
its rows' ID numbers, credit codes and phones against the archive again (another import of the same
file, or a desk, may have written them since the dry run; such rows are skipped as duplicates), and
the schema keeps live ID numbers and credit codes unique. A cancel or any error removes what was
written (short transactions again); a killed process leaves its batch hidden, and the next start
removes it (:func:`discard_abandoned`). A backup is taken before. Needs import.run.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text

from crm_tui.domain import importing as rules
from crm_tui.domain import search_terms
from crm_tui.domain.customers import (
    FIELD_LABELS,
    PhoneInput,
    fields_of,
    format_number,
    needs_sensitive_consent,
    validate_customer,
    validate_phones,
)
from crm_tui.domain.errors import Conflict, CrmError, NotFound, ValidationError
from crm_tui.i18n import N_, _
from crm_tui.services import customers as cust
from crm_tui.services.context import PERMISSION_LABELS, Actor, Services, Tx
from crm_tui.store import db, search_index

__all__ = ["Duplicate", "ImportCancelled", "ImportResult", "Plan", "RowError", "Table", "auto_mapping",
           "delete_mapping", "known_fields", "list_mappings", "load_mapping", "plan", "read_file", "run",
           "save_mapping"]

PERMISSION_LABELS.setdefault("import.run", N_("import data"))
CHUNK = 1000  # most rows per write transaction (fewer when one takes longer than HOLD_TARGET)
NAME_CACHE = 10_000  # distinct names whose search columns and terms a run keeps (~4 KiB each)
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


# -- reading files --------------------------------------------------------------------------------

def read_file(path: Path | str) -> Table:
    """The first sheet of an XLSX, or a CSV (comma, semicolon or tab separated) in any of the
    encodings Chinese spreadsheets are saved in. The first non-empty row holds the headers."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ImportFileError("No file at {path}.", path=str(path))
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        raw_rows, encoding = _xlsx_rows(data), "xlsx"
    elif suffix in (".csv", ".txt", ".tsv"):
        try:
            content, encoding = rules.decode(data)
        except UnicodeDecodeError:
            raise ImportFileError("{name} is neither UTF-8 nor GBK/GB18030 text; save it as CSV (UTF-8) or XLSX.",
                                  name=path.name) from None
        first = content.split("\n", 1)[0]
        delim = max((",", ";", "\t"), key=first.count)
        raw_rows = ((i, [c.strip() for c in r]) for i, r in enumerate(csv.reader(io.StringIO(content, newline=""),
                                                                               delimiter=delim), start=1))
    else:
        raise ImportFileError("{name}: only CSV and XLSX files can be imported.", name=path.name)
    headers: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for n, cells in raw_rows:
        if not any(cells):
            continue
        if headers is None:
            headers = [c or f"#{i + 1}" for i, c in enumerate(cells)]
            continue
        rows.append((n, cells))
        if len(rows) > MAX_ROWS:
            raise ImportFileError("{name} has more than {max} rows; split it.", name=path.name, max=MAX_ROWS)
    if headers is None:
        raise ImportFileError("{name} is empty.", name=path.name)
    return Table(path.name, headers, rows, encoding, digest)


def _xlsx_rows(data: bytes):  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable workbook gets the same message
        raise ImportFileError("The file is not a readable XLSX workbook.") from None
    try:
        ws = wb.worksheets[0]
        for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
            yield n, [rules.cell_text(v) for v in values]
    finally:
        wb.close()


# -- saved mappings -------------------------------------------------------------------------------

def _check(mapping: Mapping[str, str]) -> dict[str, str]:
    problems = rules.check_mapping(mapping, known_fields())
    if problems:
        raise ValidationError("mapping", "The column mapping is not usable: {problems}",
                              problems=", ".join("name (required)" if p == "name" else p for p in problems))
    return dict(mapping)


def save_mapping(svc: Services, actor: Actor, name: str, mapping: Mapping[str, str]) -> None:
    svc.require(actor, "import.run")
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise ValidationError("name", "Give the mapping a name of 1 to 60 characters")
    clean = _check(mapping)
    with svc.write(actor) as tx:
        tx.execute("INSERT INTO import_mapping (name, mapping, updated_at, updated_by_id) VALUES (:n, :m, :now, :by)"
                   " ON CONFLICT(name) DO UPDATE SET mapping = excluded.mapping, updated_at = excluded.updated_at,"
                   " updated_by_id = excluded.updated_by_id",
                   {"n": name, "m": json.dumps(clean, ensure_ascii=False), "now": tx.now, "by": actor.staff_id})
        tx.audit("import.mapping_save", entity="import_mapping", entity_id=name, details={"mapping": clean})


def load_mapping(svc: Services, actor: Actor, name: str) -> dict[str, str]:
    with svc.read(actor, "import.run") as s:
        row = s.execute(text("SELECT mapping FROM import_mapping WHERE name = :n"), {"n": name}).first()
    if row is None:
        raise NotFound("No saved column mapping named '{name}'.", name=name)
    return dict(json.loads(row[0]))


def list_mappings(svc: Services, actor: Actor) -> list[str]:
    with svc.read(actor, "import.run") as s:
        return [r[0] for r in s.execute(text("SELECT name FROM import_mapping ORDER BY name"))]


def delete_mapping(svc: Services, actor: Actor, name: str) -> None:
    with svc.write(actor, "import.run") as tx:
        tx.execute("DELETE FROM import_mapping WHERE name = :n", {"n": name})
        tx.audit("import.mapping_delete", entity="import_mapping", entity_id=name)


# -- the dry run ----------------------------------------------------------------------------------

def _staff_lookup(s: Any) -> dict[str, tuple[int, bool]]:
    out: dict[str, tuple[int, bool]] = {}
    for sid, user, display, active in s.execute(text("SELECT id, username, display_name, active FROM staff")):
        out.setdefault(str(user), (int(sid), bool(active)))
        out.setdefault(str(display), (int(sid), bool(active)))
        out.setdefault(str(sid), (int(sid), bool(active)))
    return out


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


def plan(svc: Services, actor: Actor, table: Table, mapping: Mapping[str, str] | None = None, *,
         progress: Callable[[int, int], None] | None = None, cancel: threading.Event | None = None) -> Plan:
    """The dry run: every row checked, nothing written. Errors name the file row, the column
    header and the reason (in the UI language)."""
    with _gc_paused():
        return _plan(svc, actor, table, mapping, progress=progress, cancel=cancel)


def _plan(svc: Services, actor: Actor, table: Table, mapping: Mapping[str, str] | None = None, *,
          progress: Callable[[int, int], None] | None = None, cancel: threading.Event | None = None) -> Plan:
    svc.require(actor, "import.run")
    mapping = _check(mapping if mapping is not None else rules.auto_mapping(table.headers))
    unknown = [h for h in mapping if h not in table.headers]
    if unknown:
        raise ValidationError("mapping", "These columns are not in the file: {columns}", columns=", ".join(unknown))
    col = {h: table.headers.index(h) for h in mapping}
    by_field = {f: h for h, f in mapping.items() if f != "ignore"}
    cells_of = [(f, col[h]) for h, f in mapping.items() if f != "ignore"]
    not_archive = frozenset(("kind", "sensitive_consent", *rules.PHONE_FIELDS))
    today = svc.now().date()
    result = Plan(table, dict(mapping))
    with svc.store.read() as s:
        staff = _staff_lookup(s)
        idents: dict[tuple[str, str], tuple[int, str]] = {}
        for cid, number, idn, uscc in s.execute(text(
                "SELECT id, number, id_number, uscc FROM customer WHERE erased_at IS NULL"
                " AND (id_number IS NOT NULL OR uscc IS NOT NULL)")):
            if idn:
                idents[("id_number", idn)] = (int(cid), str(number))
            if uscc:
                idents[("uscc", uscc)] = (int(cid), str(number))
        phones_of: dict[str, tuple[int, str, str]] = {}
        for national, cid, number, name in s.execute(text(
                "SELECT ph.national, c.id, c.number, c.name FROM customer_phone ph JOIN customer c"
                " ON c.id = ph.customer_id WHERE c.erased_at IS NULL")):
            phones_of.setdefault(str(national), (int(cid), str(number), str(name)))
    in_file: dict[tuple[str, str], int] = {}

    def header_of(fname: str, phone_cols: list[str]) -> str:
        if fname.startswith("phones."):
            part = fname.split(".")[1]
            return phone_cols[int(part)] if part.isdigit() and int(part) < len(phone_cols) else by_field.get("phone", "")
        return by_field.get(fname, by_field.get("name", ""))

    for done, (rownum, cells) in enumerate(table.rows, start=1):
        if cancel is not None and cancel.is_set():
            raise ImportCancelled("The import was cancelled; nothing was imported.")
        if done % 500 == 0:
            if progress is not None:
                progress(done, len(table.rows))
            if done % 2000 == 0:
                _gc_young()
        width = len(cells)
        values = {f: (cells[i] if i < width else "") for f, i in cells_of}
        errors: list[RowError] = []
        kind = rules.kind_of(values.get("kind"), values.get("name"), values)
        if kind is None:
            result.errors.append(RowError(rownum, by_field["kind"], _("Write 个人 (person) or 单位 (organisation)")))
            continue
        raw = {f: v for f, v in values.items() if f not in not_archive}
        clean, verrs = validate_customer(raw, kind, today)
        phone_cols = [by_field[p] for p in rules.PHONE_FIELDS if p in by_field and values.get(p)]
        cphones, perrs = validate_phones([PhoneInput(values[p]) for p in rules.PHONE_FIELDS if values.get(p)])
        for e in [*verrs, *perrs]:
            errors.append(RowError(rownum, header_of(e.field, phone_cols), e.message))
        owner_id: int | None = actor.staff_id
        contacts: list[int] = []
        for fname, tokens in (("owner", [clean.get("owner")] if clean.get("owner") else []),
                              ("staff_contacts", clean.get("staff_contacts") or [])):
            for token in tokens:
                found = staff.get(str(token))
                if found is None:
                    errors.append(RowError(rownum, by_field[fname], _("Unknown staff member '{name}'", name=token)))
                elif not found[1]:
                    errors.append(RowError(rownum, by_field[fname], _(
                        "{name}'s account is disabled; choose an active colleague", name=token)))
                elif fname == "owner":
                    owner_id = found[0]
                elif found[0] not in contacts:
                    contacts.append(found[0])
        consent = rules.is_yes(values.get("sensitive_consent"))
        if not verrs and needs_sensitive_consent(clean) and not consent:
            errors.append(RowError(rownum, by_field.get("id_number") if clean.get("id_number") else
                                   by_field.get("bank_account", ""), _(
                "An ID number or bank account is kept only with the customer's consent to sensitive data; "
                "record that consent first")))
        if errors:
            result.errors.extend(errors)
            continue
        dup: Duplicate | None = None
        keys = [(k, clean[k]) for k in ("id_number", "uscc") if clean.get(k)] + [("phone", p.national) for p in cphones]
        for key in keys:
            if key in in_file:
                errors.append(RowError(rownum, by_field.get(key[0], by_field["name"]),
                                       _("Same customer as row {row} of this file", row=in_file[key])))
                break
            if key[0] != "phone" and key in idents:
                dup = Duplicate(rownum, str(clean["name"]), *idents[key], key[0], clean, consent)
                break
            if key[0] == "phone" and key[1] in phones_of:
                cid, number, name = phones_of[key[1]]
                if cust._similar(clean.get("name"), name):
                    dup = Duplicate(rownum, str(clean["name"]), cid, number, "phone", clean, consent)
                    break
                errors.append(RowError(rownum, by_field.get("phone", by_field["name"]),
                                       _("The phone {phone} belongs to customer {number}; a shared phone needs a "
                                         "reason: register this customer in the app", phone=key[1], number=number)))
                break
        if errors:
            result.errors.extend(errors)
            continue
        for key in keys:
            in_file.setdefault(key, rownum)
        if dup is not None:
            result.duplicates.append(dup)
            continue
        assert owner_id is not None
        # only the values given: a row's clean dict names every field of its kind, most blank
        # (~1.2 KiB a row kept until the write; readers use .get)
        result.ready.append(_Ready(rownum, kind, {k: v for k, v in clean.items() if v is not None}, cphones,
                                   owner_id, contacts, consent))
    if progress is not None:
        progress(len(table.rows), len(table.rows))
    return result


# -- writing --------------------------------------------------------------------------------------

def run(svc: Services, actor: Actor, p: Plan, *, all_or_nothing: bool = True,
        progress: Callable[[int, int], None] | None = None, cancel: threading.Event | None = None,
        backup: bool = True, duplicates: str = "list") -> ImportResult:
    """Write the ready rows of a dry run. With ``all_or_nothing`` any bad row refuses the whole
    import. Duplicates of existing customers are never overwritten: ``duplicates="list"`` leaves
    them for decision, ``"fill"`` fills the existing archives' blank fields from the rows (one
    ``customer.update`` audit entry per archive changed, on its timeline). A cancel (``cancel``
    set) or any failure rolls everything back, updates included."""
    with _gc_paused():
        return _run(svc, actor, p, all_or_nothing=all_or_nothing, progress=progress, cancel=cancel, backup=backup,
                    duplicates=duplicates)


def _run(svc: Services, actor: Actor, p: Plan, *, all_or_nothing: bool, progress: Callable[[int, int], None] | None,
         cancel: threading.Event | None, backup: bool, duplicates: str) -> ImportResult:
    svc.require(actor, "import.run")
    if duplicates not in ("list", "fill"):
        raise ValidationError("duplicates", "Choose one of: {options}", options="list, fill")
    if all_or_nothing and p.errors:
        raise ImportRefused("{rows} row(s) have errors; nothing was imported. Correct them, or import only the "
                            "valid rows.", rows=p.bad_rows)
    backup_name = None
    if backup and p.ready:
        from crm_tui.services import backup as backup_svc

        backup_name = backup_svc.auto_backup(svc, "pre-import").path.name
    started = time.monotonic()  # rows per second of the import itself, the backup before excluded
    batch = _Batch(svc, actor, p) if p.ready else None
    try:
        written, raced = _write_rows(svc, actor, p, batch, progress, cancel) if batch else (0, 0)
        with svc.write(actor) as tx:  # the final short step: publish the batch, fill, one audit entry
            if cancel is not None and cancel.is_set():
                raise ImportCancelled("The import was cancelled; nothing was imported.")
            filled = _fill(tx, p.duplicates, _cal(svc)) if duplicates == "fill" else 0
            if batch is not None:
                batch.publish(tx, written)
            tx.audit("customer.import", entity="import", entity_id=p.table.name,
                     details={"file": p.table.name, "sha256": p.table.sha256, "encoding": p.table.encoding,
                              "rows": p.total, "imported": written, "duplicates": len(p.duplicates) + raced,
                              "bad_rows": p.bad_rows, "mapping": p.mapping, "backup": backup_name, "filled": filled,
                              "first_id": batch.first_id if batch and written else None,
                              "last_id": batch.last_id - 1 if batch and written else None,
                              "batch": batch.id if batch else None})
    except BaseException:
        if batch is not None:
            batch.discard()  # short transactions; if this process dies first, the next start does it
        raise
    finally:
        if batch is not None:
            batch.release()
    return ImportResult(written, len(p.duplicates) + raced - filled, p.bad_rows, time.monotonic() - started,
                        backup_name, filled)


def _cal(svc: Services) -> Any:
    return cust._calendar(svc)


PLACEHOLDER_NAME = ""  # the row that pins the top of a batch's id range (erased, hidden, deleted on publish)


class _Batch:
    """An import batch (store/pending.py): its first short transaction reserves ids and customer
    numbers for every ready row and marks the batch running; its rows are hidden until
    :meth:`publish`; :meth:`discard` removes them in short transactions."""

    def __init__(self, svc: Services, actor: Actor, p: Plan) -> None:
        import secrets

        from crm_tui.store import lock

        self.svc = svc
        self.actor = actor
        self.token = secrets.token_hex(8)
        self.held = lock.hold_import(svc.store.db_file, self.token)
        try:
            n = len(p.ready)
            now = svc.now()
            with svc.write(actor) as tx:
                self.first_id = int(tx.execute("SELECT coalesce(max(id), 0) FROM customer").scalar_one()) + 1
                self.last_id = self.first_id + n  # the placeholder's id: the rows take first_id .. last_id - 1
                last = tx.execute("SELECT last FROM customer_number_seq WHERE year = :y", {"y": now.year}).first()
                self.first_seq = (int(last[0]) if last else 0) + 1
                tx.execute("INSERT INTO customer_number_seq (year, last) VALUES (:y, :l)"
                           " ON CONFLICT(year) DO UPDATE SET last = excluded.last",
                           {"y": now.year, "l": self.first_seq + n - 1})
                self.id = int(tx.execute(
                    "INSERT INTO import_batch (token, state, file, sha256, first_id, last_id, rows, started_by,"
                    " started_at) VALUES (:t, 'running', :f, :h, :a, :b, 0, :u, :now) RETURNING id",
                    {"t": self.token, "f": p.table.name, "h": p.table.sha256, "a": self.first_id, "b": self.last_id,
                     "u": actor.username, "now": now}).scalar_one())
                tx.execute("INSERT INTO customer (id, number, kind, name, important, false_info, business_stopped,"
                           " needs_informing, last_activity_at, version, created_at, updated_at, erased_at)"
                           " VALUES (:id, :n, 'person', :name, 0, 0, 0, 0, :now, 1, :now, :now, :now)",
                           {"id": self.last_id, "n": f"IMPORT-{self.id}", "name": PLACEHOLDER_NAME, "now": now})
        except BaseException:
            self.release()
            raise

    def publish(self, tx: Tx, written: int) -> None:
        tx.execute("DELETE FROM customer WHERE id = :id AND number = :n", {"id": self.last_id, "n": f"IMPORT-{self.id}"})
        tx.execute("UPDATE import_batch SET state = 'published', rows = :r, finished_at = :now WHERE id = :b",
                   {"r": written, "now": tx.now, "b": self.id})

    def discard(self) -> None:
        try:
            _discard_batch(self.svc, self.actor, self.id, self.first_id, self.last_id, self.token, reason="failed")
        except Exception:  # noqa: BLE001 - left for the next start (discard_abandoned), the batch stays hidden
            pass

    def release(self) -> None:
        from crm_tui.store import lock

        if self.held is not None:
            self.held.release()
            self.held = None
            lock.drop_import_lock(self.svc.store.db_file, self.token)


def _write_rows(svc: Services, actor: Actor, p: Plan, batch: _Batch, progress: Callable[[int, int], None] | None,
                cancel: threading.Event | None) -> tuple[int, int]:
    """The batch's rows, CHUNK rows a transaction (each well under a second of lock). Returns
    (rows written, rows skipped because the archive gained them meanwhile: another import or a
    desk holding the same ID number, credit code or phone; checked inside each transaction)."""
    now = svc.now()
    cal = _cal(svc)
    total = len(p.ready)
    cols = list(dict.fromkeys((*cust._WRITABLE, "id", "number", "kind", "owner_id", "search_name", "search_pinyin",
                               "missing_fields", "incomplete_due", "false_info", "business_stopped",
                               "needs_informing", "last_activity_at", "version", "created_at", "created_by_id",
                               "updated_at", "updated_by_id")))
    insert_customer = f"INSERT INTO customer ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    by = actor.staff_id
    names: dict[tuple[str, str], tuple[str | None, str | None, frozenset[str]]] = {}  # name, kind -> index
    deadlines: dict[Any, Any] = {}  # missing fields -> (their JSON, the deadline)
    dues: dict[Any, Any] = {}
    stamp = db.adapt(now)  # ``now`` as the driver binds it: it is on every row
    written = raced = 0
    size = CHUNK  # rows in the next transaction: shrinks when one held the lock past HOLD_TARGET
    start = 0
    while start < total:
        if cancel is not None and cancel.is_set():
            raise ImportCancelled("The import was cancelled; nothing was imported.")
        chunk = p.ready[start:start + size]
        # the rows are built before the transaction (pinyin, deadlines: most of the CPU time), so the
        # write lock is held only for the duplicate check and the inserts
        rows, phones, tags, staff_rows, consents, terms = [], [], [], [], [], []
        for i, r in enumerate(chunk, start=start):
            cid, number = batch.first_id + i, format_number(now.year, batch.first_seq + i)
            values = {k: r.clean.get(k) for k in cust._WRITABLE}
            values["important"] = bool(r.clean.get("important"))
            missing, due = cust._completeness(values, r.kind, now, len(r.phones), cal, deadlines)
            if due is not None:  # bound as the driver would bind it, converted once per deadline
                due = dues.get(due) or dues.setdefault(due, db.adapt(due))
            key = (r.clean["name"], r.kind)
            indexed = names.get(key)
            if indexed is None:  # pinyin once per distinct name in the file
                if len(names) >= NAME_CACHE:  # bounded
                    names.clear()
                indexed = names[key] = search_terms.name_index(*key)
            values.update(id=cid, number=number, kind=r.kind, owner_id=r.owner, search_name=indexed[0],
                          search_pinyin=indexed[1], missing_fields=missing, incomplete_due=due,
                          false_info=False, business_stopped=False, needs_informing=False,
                          last_activity_at=stamp, version=1, created_at=stamp, created_by_id=by,
                          updated_at=stamp, updated_by_id=by)
            rows.append(tuple(map(values.__getitem__, cols)))
            for ph in r.phones:
                phones.append((cid, ph.national, ph.e164, ph.kind, ph.label, ph.primary, stamp))
            tags += [(cid, t) for t in r.clean.get("tags") or []]
            staff_rows += [(cid, s) for s in r.contacts if s != r.owner]
            if r.consent and needs_sensitive_consent(r.clean):
                consents.append((cid, CONSENT_PURPOSE, "sensitive", "signed_form", now.date(), by, now))
            row_terms = indexed[2] | search_terms.record_terms(
                number, [ph.national for ph in r.phones], (values.get("id_number"), values.get("uscc")))
            terms += [(t, cid) for t in row_terms]
        with svc.write(actor) as tx:
            held = time.monotonic()  # the write lock is ours from here to the commit
            taken = _taken(tx, chunk)
            if taken:  # another import or a desk wrote one of these customers since the dry run
                skip = {batch.first_id + i for i, r in enumerate(chunk, start=start) if _is_taken(r, taken)}
                raced += len(skip)
                rows, phones, tags, staff_rows, consents, terms = (
                    [x for x in xs if x[id_at] not in skip] for xs, id_at in
                    ((rows, cols.index("id")), (phones, 0), (tags, 0), (staff_rows, 0), (consents, 0), (terms, 1)))
            # DB-API executemany of positional rows in the same transaction (SQLAlchemy's per-row
            # parameter processing of text() with dicts was ~17 % of the import)
            db.executemany(tx.session, insert_customer, rows)
            db.executemany(tx.session, "INSERT INTO customer_phone (customer_id, national, e164, kind, label,"
                                       " is_primary, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", phones)
            db.executemany(tx.session, "INSERT OR IGNORE INTO customer_tag (customer_id, tag) VALUES (?, ?)", tags)
            db.executemany(tx.session, "INSERT OR IGNORE INTO customer_staff (customer_id, staff_id) VALUES (?, ?)",
                           staff_rows)
            db.executemany(tx.session, "INSERT INTO customer_consent (customer_id, purpose, scope, method, given_at,"
                                       " recorded_by_id, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)", consents)
            search_index.bulk_insert(tx.session, terms, by_customer=True)  # ids ascend row by row
            written += len(rows)
        held = time.monotonic() - held
        # Inserting into a large search index touches more pages per row as it grows: keep each
        # transaction near HOLD_TARGET of lock by its row count (never above CHUNK)
        if held > HOLD_TARGET:
            size = max(min(MIN_CHUNK, CHUNK), int(size * HOLD_TARGET / held))
        elif held < HOLD_TARGET / 2:
            size = min(CHUNK, int(size * 1.5) + 1)
        start += len(chunk)
        _gc_young()
        if progress is not None:
            progress(start, total)
        if _after_chunk is not None:
            _after_chunk(start, total)
    return written, raced


HOLD_TARGET = 0.5  # seconds of write lock an import transaction aims at (issue 17: "about a second" at most)
MIN_CHUNK = 100
_after_chunk: Callable[[int, int], None] | None = None  # test hook: called after each committed chunk


def _taken(tx: Tx, chunk: Sequence[_Ready]) -> set[tuple[str, str]]:
    """The chunk's ID numbers, credit codes and phones the archive holds now (any batch, published
    or not: two imports of one file never both write a customer). Index lookups, in the chunk's
    own write transaction."""
    ids = [r.clean[k] for r in chunk for k in ("id_number", "uscc") if r.clean.get(k)]
    nats = [ph.national for r in chunk for ph in r.phones]
    out: set[tuple[str, str]] = set()
    conn = db.dbapi_connection(tx.session)
    if ids:
        arg = json.dumps(ids, ensure_ascii=False)
        for col in ("id_number", "uscc"):
            out.update((col, v) for (v,) in conn.execute(
                f"SELECT {col} FROM customer WHERE {col} IN (SELECT value FROM json_each(?))", (arg,)))
    if nats:
        out.update(("phone", v) for (v,) in conn.execute(
            "SELECT ph.national FROM customer_phone ph JOIN customer c ON c.id = ph.customer_id"
            " WHERE ph.national IN (SELECT value FROM json_each(?)) AND c.erased_at IS NULL",
            (json.dumps(nats, ensure_ascii=False),)))
    return out


def _is_taken(r: _Ready, taken: set[tuple[str, str]]) -> bool:
    return (any((k, r.clean[k]) in taken for k in ("id_number", "uscc") if r.clean.get(k))
            or any(("phone", ph.national) in taken for ph in r.phones))


def _discard_batch(svc: Services, actor: Actor, batch_id: int, first_id: int, last_id: int, token: str, *,
                   reason: str) -> int:
    """Remove an unpublished batch's rows, CHUNK customers a transaction (hidden all along), then
    the batch itself; one audit entry. Returns the customers removed."""
    from crm_tui.store import lock

    with svc.write(actor) as tx:
        tx.execute("UPDATE import_batch SET state = 'failed' WHERE id = :b AND state = 'running'", {"b": batch_id})
    removed = 0
    for a in range(first_id, last_id + 1, CHUNK):
        b = min(a + CHUNK - 1, last_id)
        with svc.write(actor) as tx:
            conn = db.dbapi_connection(tx.session)
            rows = conn.execute("SELECT id, number, name, kind, id_number, uscc FROM customer WHERE id BETWEEN ? AND ?",
                                (a, b)).fetchall()
            if not rows:
                continue
            phones: dict[int, list[str]] = {}
            for cid, nat in conn.execute("SELECT customer_id, national FROM customer_phone"
                                         " WHERE customer_id BETWEEN ? AND ?", (a, b)):
                phones.setdefault(int(cid), []).append(str(nat))
            terms = [(t, cid) for cid, number, name, kind, idn, uscc in rows
                     for t in search_terms.customer_terms(name=name or None, kind=kind, number=number,
                                                          phones=phones.get(int(cid), ()), idents=(idn, uscc))]
            conn.executemany("DELETE FROM search_term WHERE term = ? AND customer_id = ?", terms)
            for table in ("customer_phone", "customer_tag", "customer_staff", "customer_consent"):
                conn.execute(f"DELETE FROM {table} WHERE customer_id BETWEEN ? AND ?", (a, b))
            conn.execute("DELETE FROM customer WHERE id BETWEEN ? AND ?", (a, b))
            removed += sum(1 for r in rows if r[0] != last_id)
    with svc.write(actor) as tx:
        info = tx.execute("SELECT file, started_by, started_at FROM import_batch WHERE id = :b", {"b": batch_id}).first()
        tx.execute("DELETE FROM import_batch WHERE id = :b", {"b": batch_id})
        tx.audit("import.discarded", entity="import", entity_id=str(info[0]) if info else str(batch_id),
                 details={"batch": batch_id, "reason": reason, "removed": removed,
                          "started_by": info[1] if info else None, "started_at": str(info[2]) if info else None})
    lock.drop_import_lock(svc.store.db_file, token)
    return removed


@dataclass(frozen=True)
class Discarded:
    file: str
    started_by: str
    started_at: str
    removed: int


def discard_abandoned(svc: Services) -> list[Discarded]:
    """At start (app and commands): batches whose importing process is gone (killed, crashed,
    powered off) are removed. Their rows were never visible; the caller says what was removed."""
    from crm_tui.store import lock

    with svc.store.read() as s:
        found = s.execute(text("SELECT id, token, first_id, last_id, file, started_by, started_at FROM import_batch"
                               " WHERE state <> 'published'")).all()
    out = []
    for bid, token, a, b, file, by, at in found:
        if lock.import_running(svc.store.db_file, str(token)):
            continue
        n = _discard_batch(svc, Actor.system(), int(bid), int(a), int(b), str(token), reason="abandoned")
        out.append(Discarded(str(file), str(by or "-"), str(at)[:16], n))
    return out


def discarded_message(d: Discarded) -> str:
    return _("An import of {file} (started by {user} at {at}) did not finish; its {n} unpublished customers were "
             "removed (none of them was ever visible). Run the import again.", file=d.file, user=d.started_by,
             at=d.started_at, n=d.removed)


_FILLABLE = tuple(f for f in cust._WRITABLE if f not in ("important",))


def _fill(tx: Any, dups: Sequence[Duplicate], cal: Any) -> int:
    """Blank fields of existing archives filled from duplicate rows; returns archives changed."""
    from crm_tui.domain.customers import PERSONAL_FIELDS
    from crm_tui.store.audit import PersonalChange

    changed = 0
    for d in dups:
        cur = cust._load_row(tx, d.existing_id)
        new = {f: d.values[f] for f in _FILLABLE
               if cur.get(f) in (None, "") and d.values.get(f) not in (None, "") and f in fields_of(cur["kind"])}
        if not new:
            continue
        for col in ("id_number", "uscc"):  # unique among live archives (1201): never fill one another holds
            if col in new and tx.execute(f"SELECT 1 FROM customer WHERE {col} = :v AND id != :c",
                                         {"v": new[col], "c": d.existing_id}).first():
                new.pop(col)
        if not new:
            continue
        if needs_sensitive_consent(new) and not d.consent and not cust._has_sensitive_consent(tx, d.existing_id):
            new.pop("id_number", None)
            new.pop("bank_account", None)
            if not new:
                continue
        merged = {**cur, **new}
        phones = len(cust._phones_of(tx, d.existing_id))
        missing, due = cust._completeness({k: merged.get(k) for k in cust._WRITABLE}, cur["kind"],
                                          cust._dt(cur["created_at"]), phones, cal)  # type: ignore[arg-type]
        sets = {**new, "missing_fields": missing, "incomplete_due": due, "updated_at": tx.now,
                "updated_by_id": tx.actor.staff_id, "last_activity_at": tx.now}
        tx.execute(f"UPDATE customer SET {', '.join(f'{k} = :{k}' for k in sets)}, version = version + 1"
                   " WHERE id = :id", {**sets, "id": d.existing_id})
        if "id_number" in new or "uscc" in new:
            ph = [r["national"] for r in cust._phones_of(tx, d.existing_id)]
            search_index.replace_terms(tx.session, d.existing_id, cust._terms(cur, ph), cust._terms(merged, ph))
        if d.consent and needs_sensitive_consent(new):
            tx.execute("INSERT INTO customer_consent (customer_id, purpose, scope, method, given_at, recorded_by_id,"
                       " recorded_at) VALUES (:c, :p, 'sensitive', 'signed_form', :g, :by, :at)",
                       {"c": d.existing_id, "p": CONSENT_PURPOSE, "g": tx.now.date(), "by": tx.actor.staff_id,
                        "at": tx.now})
        tx.audit("customer.update", entity="customer", entity_id=d.existing_id, customer_id=d.existing_id,
                 details={"number": d.existing_number, "source": "import",
                          "changes": {f: [None, cust._plain(v)] for f, v in new.items() if f not in PERSONAL_FIELDS}},
                 personal=[PersonalChange(f, None, cust._personal_text(v)) for f, v in new.items()
                           if f in PERSONAL_FIELDS])
        changed += 1
    return changed


def header_label(fname: str) -> str:
    return _(known_fields().get(fname, fname))


def mapping_problems(mapping: Mapping[str, str]) -> list[str]:
    return rules.check_mapping(mapping, known_fields())


def parse_mapping_args(pairs: Sequence[str]) -> dict[str, str]:
    """``表头=field`` pairs from the command line."""
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValidationError("mapping", "Write a column mapping as HEADER=field, e.g. 手机=phone")
        h, f = pair.split("=", 1)
        out[h.strip()] = f.strip()
    return out


# -- the customer's timeline ------------------------------------------------------------------------

@cust.register_timeline_source("import")
def _import_source(s: Any, customer_id: int, before: Any, limit: int) -> list[cust.TimelineEntry]:
    """"Imported from <file>" on each imported customer's timeline, read from the import's single
    audit entry (it records the range of customer ids the import created)."""
    params: dict[str, Any] = {"c": customer_id}
    where = ""
    if before is not None:
        where = " AND at <= :b"
        params["b"] = before
    rows = s.execute(text(
        "SELECT id, at, actor_name, details FROM audit_log WHERE action = 'customer.import'"
        " AND json_extract(details, '$.first_id') <= :c AND json_extract(details, '$.last_id') >= :c" + where +
        " ORDER BY id DESC LIMIT 1"), params).all()
    out = []
    for aid, at, actor_name, details in rows:
        d = json.loads(details)
        at_ = cust._dt(at)
        assert at_ is not None
        out.append(cust.TimelineEntry(at_, "import", _("Imported from {file}", file=d.get("file", "")),
                                      _("One of {n} customers imported together (audit entry {id}).",
                                        n=d.get("imported", 0), id=aid), actor_name or "",
                                      cust.timeline_key(at_, "import", int(aid))))
    return out

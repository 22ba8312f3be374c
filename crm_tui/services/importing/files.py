"""Reading a spreadsheet: CSV in UTF-8, UTF-8 with BOM or GBK/GB18030, or the first sheet of an XLSX."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

from crm_tui.domain import importing as rules
from crm_tui.services.importing.model import MAX_ROWS, ImportFileError, Table


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
        raw_rows = ((i, list(map(str.strip, r))) for i, r in enumerate(csv.reader(io.StringIO(content, newline=""),
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


"""The customer search and the list export (R-CUST-12)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from crm_tui.domain import search_terms
from crm_tui.domain.customers import (
    KINDS,
    load_policy,
    mask_phone,
)
from crm_tui.domain.errors import ValidationError
from crm_tui.i18n import N_, _
from crm_tui.services.context import Actor, Services, Tx
from crm_tui.services.customers.common import _sess
from crm_tui.services.customers.model import CustomerRow, SearchFilters, SearchPage
from crm_tui.services.files import private_file
from crm_tui.store import search_index


def _rows(s: Session | Tx | Any, ids: Sequence[int]) -> list[CustomerRow]:
    return [CustomerRow(
        id=r[0], number=r[1], name=r[2] if r[9] is None else _("(erased)"), kind=r[3],
        phone=mask_phone(r[10]) if r[10] else "", category=r[4], grade=r[5], owner=r[6] or "",
        tags=tuple(sorted(r[11].split("\x1f"))) if r[11] else (), important=bool(r[7]), owner_id=r[8],
        erased=r[9] is not None) for r in search_index.rows(_sess(s), list(ids))]


def _filters(f: SearchFilters) -> search_index.Filters:
    return search_index.Filters(category=f.category or None, grade=f.grade or None, owner_id=f.owner_id,
                                tag=(f.tag or "").strip() or None)


def search(svc: Services, actor: Actor, query: str, filters: SearchFilters = SearchFilters(),
           cursor: str | None = None, limit: int = 50, *, count: bool = True) -> SearchPage:
    """One page of customers matching ``query`` (see ``domain.search_terms.parse_query``) and the
    filters; an empty query lists by newest first. ``next_cursor`` fetches the next page (None at
    the end; a last page may be empty). ``count_hint`` is exact up to 1000, else "1000+"; with
    ``count=False`` it is "" and not counted (the list screen shows the page first and asks
    :func:`search_count` afterwards). Every query is an index lookup, so it is fast at any size;
    still, call it off the UI thread."""
    svc.require(actor, "customer.view")
    q = search_terms.parse_query(query)
    f = _filters(filters)
    with search_index.reader(svc.store.engine) as conn:  # one snapshot, no ORM session: per keystroke
        page = search_index.page(conn, q, f, cursor, limit)
        n = search_index.count(conn, q, f) if count else None
        rows = _rows(conn, page.ids)
    return SearchPage(rows, page.next_cursor, "" if n is None else search_index.count_hint(n))


def search_count(svc: Services, actor: Actor, query: str, filters: SearchFilters = SearchFilters()) -> str:
    """How many customers :func:`search` finds for ``query`` and the filters, as its ``count_hint``
    ("37", or "1000+": counted up to 1001 by the index, never a scan)."""
    svc.require(actor, "customer.view")
    q = search_terms.parse_query(query)
    f = _filters(filters)
    with search_index.reader(svc.store.engine) as conn:
        return search_index.count_hint(search_index.count(conn, q, f))


_LIST_COLUMNS = (("number", N_("Customer number")), ("name", N_("Name")), ("kind", N_("Type")),
                 ("category", N_("Category")), ("grade", N_("Grade")), ("owner", N_("Responsible staff")),
                 ("phone", N_("Phone")), ("tags", N_("Tags")), ("important", N_("Important customer")))


_LIST_WIDTHS = {"number": 16, "name": 24, "phone": 15, "owner": 10, "tags": 24, "category": 10}


def export_list(svc: Services, actor: Actor, query: str, filters: SearchFilters, path: str | Path,
                fmt: str = "xlsx", *, approval_id: int | None = None) -> int:
    """The customer list (客户一览表, R-CUST-12) for the query and filters, as XLSX or CSV (UTF-8
    with BOM for Excel). Phones are masked. Needs customer.export and, when the setting asks for
    it, an approved request (``approval_id``, used up before the file is written; R-SEC-2);
    audited with the row count. Returns the number of rows written."""
    from crm_tui.services import approvals

    svc.require(actor, "customer.export")
    if fmt not in ("xlsx", "csv"):
        raise ValidationError("fmt", "Choose one of: {options}", options="xlsx, csv")
    if approvals.required(svc, "customer.export"):
        with svc.write(actor) as tx:
            approvals.use(tx, svc, "customer.export", approval_id)
    q = search_terms.parse_query(query)
    f = _filters(filters)
    target = Path(path)
    pol = load_policy()
    header = [_(label) for _k, label in _LIST_COLUMNS]

    def cells(r: CustomerRow) -> list[Any]:
        cat = pol.categories[r.category].label if r.category in pol.categories else (r.category or "")
        return [r.number, r.name, _(KINDS.get(r.kind, r.kind)), cat, r.grade or "", r.owner, r.phone,
                " ".join(r.tags), _("yes") if r.important else ""]

    seen: set[int] = set()

    def all_rows() -> Iterable[list[Any]]:
        cursor = None
        with svc.store.read() as s:
            while True:
                page = search_index.page(s, q, f, cursor, 500)
                fresh = [i for i in page.ids if i not in seen]
                seen.update(fresh)
                for r in _rows(s, fresh):
                    yield cells(r)
                if page.next_cursor is None:
                    break
                cursor = page.next_cursor

    count = 0
    if fmt == "csv":
        with private_file(target, "w", encoding="utf-8-sig", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            for line in all_rows():
                w.writerow(line)
                count += 1
    else:
        from openpyxl import Workbook
        from openpyxl.utils import get_column_letter
        from rich.cells import cell_len

        wb = Workbook(write_only=True)
        ws = wb.create_sheet(_("Customer list")[:31])
        ws.freeze_panes = "A2"  # the header row stays when scrolling
        for i, (key, title) in enumerate(zip((k for k, _l in _LIST_COLUMNS), header), start=1):
            # set before the rows (a write-only sheet streams them): the header or the column's usual content
            ws.column_dimensions[get_column_letter(i)].width = max(cell_len(title) + 2, _LIST_WIDTHS.get(key, 8))
        ws.append(header)
        for line in all_rows():
            ws.append(line)
            count += 1
        with private_file(target) as fh:
            wb.save(fh)
    with svc.write(actor) as tx:
        tx.audit("customer.export", details={"format": fmt, "rows": count, "query_kinds": q.kinds(),
                                             "filters": {k: v for k, v in asdict(filters).items() if v is not None}})
    return count
